"""The Nuke runner: ``nuke -x -F 1-10 -X Write1 comp.nk``, progress from its log.

The Write node chosen in the panel arrives in the job's environment
(``common.jobspec.TARGET_ENV``; empty: every Write renders). The job's output is that Write's
path (``render/comp.####.exr``, ``%04d``; ``%V``/``%v`` for views), which Nuke evaluates
itself; a frame is done when its file is on disk (one per view). The flags are those of
Foundry's "Command Line Operations": ``-x`` renders (a render licence, ``nuke_r``), ``-F``
the frames (``1-10x2``), ``-X`` the one Write, ``-V 2`` prints each frame as it goes, and
``-f`` opens the script at full resolution, so a script saved with proxy mode on still renders
the full-size frames the job names.

The executable is the ``nuke`` setting (``CLOUDBURST_NUKE``, a path or a name) when set. Else
the newest Nuke installed here: programs named ``Nuke<major>.<minor>`` on PATH and in the
standard install folders (``/usr/local/Nuke*``, ``/opt/Nuke*``, ``C:/Program Files/Nuke*``,
``/Applications/Nuke*``), the release (``v5`` of ``Nuke14.0v5``) read from the folder; else
``Nuke`` on PATH.

Nuke takes a render licence with ``-x``; a node whose licence server has only interactive
seats sets ``nuke_interactive`` (``CLOUDBURST_NUKE_INTERACTIVE=1``) and Nuke is run with
``-i``. It is the node's setting, not the job's: the licences belong to the node.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Callable, Sequence

from cloud_agent.runners import nuke_log
from cloud_agent.runners.base import frame_run
from cloud_agent.runners.batch import BatchRender, make_output_folder, resolve_executable
from common.config import Settings
from common.jobspec import TARGET_ENV
from common.models import TaskAssignment
from common.scene_readers.sequences import frame_path

ENV_VAR = "CLOUDBURST_NUKE"
DEFAULT_EXECUTABLE = "Nuke"
#: Where Nuke's installers put it, one folder per version (``/usr/local/Nuke14.0v5``).
INSTALL_GLOBS = (
    "/usr/local/Nuke*",
    "/opt/Nuke*",
    "C:/Program Files/Nuke*",
    "/Applications/Nuke*/Nuke*.app/Contents/MacOS",
)
_PROGRAM = re.compile(r"^Nuke(\d+)\.(\d+)(?:\.exe)?$", re.IGNORECASE)
_RELEASE = re.compile(r"Nuke\d+\.\d+v(\d+)", re.IGNORECASE)


def installed_nukes(search_path: str, install_globs: Sequence[str] = INSTALL_GLOBS) -> list[str]:
    """The Nuke programs found on ``search_path`` (PATH's form) and in the install folders,
    newest first (major, minor, then the release named by the folder)."""
    folders = [f for f in search_path.split(os.pathsep) if f]
    folders += [f for pattern in install_globs for f in sorted(glob.glob(pattern))]
    found: dict[str, tuple[int, int, int]] = {}
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = _PROGRAM.match(name)
            path = os.path.join(folder, name)
            if match is None or not os.path.isfile(path) or not os.access(path, os.X_OK):
                continue
            release = _RELEASE.search(os.path.realpath(path))
            version = (int(match.group(1)), int(match.group(2)))
            found.setdefault(path, (*version, int(release.group(1)) if release else 0))
    return sorted(found, key=lambda path: found[path], reverse=True)


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

    def __init__(self, executable: str, interactive: bool = False) -> None:
        self.executable = executable
        self.interactive = interactive

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        which: Callable[[str], str | None] = shutil.which,
        search_path: str | None = None,
        install_globs: Sequence[str] = INSTALL_GLOBS,
    ) -> NukeRunner:
        """The runner for this node's Nuke: the setting's, else the newest installed, else
        ``Nuke`` on PATH.

        Args:
            search_path: the folders searched for ``Nuke<major>.<minor>`` (PATH's form);
                None: this process's PATH.

        Raises:
            ConfigError: no Nuke here (the agent then renders no Nuke jobs).
        """
        interactive = settings.nuke_interactive
        if not settings.nuke:
            path = os.environ.get("PATH", "") if search_path is None else search_path
            newest = installed_nukes(path, install_globs)
            if newest:
                return cls(newest[0], interactive)
        executable = resolve_executable(
            settings.nuke, env_var=ENV_VAR, default=DEFAULT_EXECUTABLE, program="Nuke", which=which
        )
        return cls(executable, interactive)

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
            self.executable, "-x", *(["-i"] if self.interactive else []), "-f", "-V", "2",
            "-F", frame_range(assignment.frames),
            *(["-X", write] if write else []),
            assignment.scene,
        ]  # fmt: skip
        return BatchRender(
            assignment, command, assignment.env, expected_files(output), nuke_log.parse_line, "Nuke"
        )
