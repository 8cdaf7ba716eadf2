"""The Nuke runner: ``nuke -x -F 1-10 -X Write1 comp.nk``, progress from its log.

The Write node chosen in the panel arrives in the job's environment
(``common.jobspec.TARGET_ENV``; empty: every Write renders). The job's output is that Write's
path (``render/comp.####.exr``, ``%04d``; ``%V``/``%v`` for views), which Nuke evaluates
itself; a frame is done when its file is on disk (one per view). The executable is
``CLOUDBURST_NUKE`` (a path or a name), else ``Nuke`` on PATH.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable

from cloud_agent.runners import nuke_log
from cloud_agent.runners.base import frame_run
from cloud_agent.runners.batch import BatchRender, make_output_folder, resolve_executable
from common.config import Settings
from common.jobspec import TARGET_ENV
from common.models import TaskAssignment
from common.scene_readers.sequences import frame_path

ENV_VAR = "CLOUDBURST_NUKE"
DEFAULT_EXECUTABLE = "Nuke"


def frame_range(frames: list[int]) -> str:
    """The task's frames as Nuke's ``-F`` takes them: ``1-10``, ``1-10x2``, ``7``."""
    first, last, step = frame_run(frames)
    if first == last:
        return str(first)
    return f"{first}-{last}" + (f"x{step}" if step != 1 else "")


def expected_files(output: str) -> Callable[[int], list[str]]:
    """The glob pattern of a frame's files; a view token matches every view's file."""

    def expected(frame: int) -> list[str]:
        escaped = glob.escape(frame_path(output, frame))
        return [escaped.replace("%V", "*").replace("%v", "?")]

    return expected


class NukeRunner:
    """Runs Nuke jobs with one executable (``Runner`` for the ``nuke`` DCC)."""

    dcc = "nuke"

    def __init__(self, executable: str) -> None:
        self.executable = executable

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        which: Callable[[str], str | None] = shutil.which,
    ) -> NukeRunner:
        """The runner for this node's Nuke.

        Raises:
            ConfigError: no Nuke here (the agent then renders no Nuke jobs).
        """
        configured = settings.nuke
        return cls(
            resolve_executable(
                configured,
                env_var=ENV_VAR,
                default=DEFAULT_EXECUTABLE,
                program="Nuke",
                which=which,
            )
        )

    def prepare(self, assignment: TaskAssignment) -> BatchRender:
        """The attempt for one task (the agent's main thread).

        Raises:
            RenderError: the frames cannot be given to Nuke, or the output folder cannot be
                made.
        """
        write = assignment.env.get(TARGET_ENV, "")
        output = os.path.abspath(os.path.expanduser(assignment.output))
        make_output_folder(output)
        command = [
            self.executable, "-x", "-F", frame_range(assignment.frames),
            *(["-X", write] if write else []),
            assignment.scene,
        ]  # fmt: skip
        return BatchRender(
            assignment, command, assignment.env, expected_files(output), nuke_log.parse_line, "Nuke"
        )
