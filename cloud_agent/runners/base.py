"""What every DCC runner does, and the registry that finds the runner of a job's DCC.

A ``Runner`` knows one DCC (``blender``, later ``maya``...). For each leased task it prepares a
``TaskRender``: one attempt of that task, which gives the command line and environment, reads
the renderer's output line by line (progress, frames saved, errors), and once the command has
ended names the output files, checking that every frame of the task has its file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from common.config import Settings, load_settings
from common.errors import RenderError
from common.models import TaskAssignment


@dataclass(frozen=True)
class LineReport:
    """What one line of the renderer's output meant for the task."""

    progress: float | None = None
    """The task's progress (0..1) when this line moved it, else None."""
    frames_done: tuple[int, ...] = ()
    """Frames whose output file this line put in its final place."""
    error: str | None = None
    """An error the renderer reported on this line."""


class TaskRender(Protocol):
    """One attempt at one task. Used by the agent's main thread only."""

    command: list[str]
    """The program and its arguments."""
    env: dict[str, str]
    """Variables to set on top of the agent's environment."""

    def interpret(self, line: str) -> LineReport:
        """Reads one line of output (without its line ending) and says what it meant."""
        ...

    def frames_done(self) -> list[int]:
        """Every frame of this attempt whose output is in its final place, in order."""
        ...

    def progress(self) -> float:
        """The task's progress so far, 0..1."""
        ...

    def finish(self, exit_code: int | None) -> list[str]:
        """After the command ended on its own: the output files, one or more per frame.

        Raises:
            RenderError: the command failed, or a frame of the task has no output file; the
                message says which frames and the renderer's last error.
        """
        ...

    def cleanup(self) -> None:
        """Removes what the attempt left aside (staging files); safe to call more than once."""
        ...


class Runner(Protocol):
    """Turns a leased task of one DCC into a ``TaskRender``."""

    dcc: str

    def prepare(self, assignment: TaskAssignment) -> TaskRender:
        """Builds the attempt for a task.

        Raises:
            RenderError: the task cannot be run here (bad frames, unusable output path).
        """
        ...


RunnerFactory = Callable[[Settings], Runner]

_RUNNERS: dict[str, RunnerFactory] = {}


def register_runner(dcc: str, factory: RunnerFactory) -> None:
    """Makes ``factory`` the maker of the runner for ``dcc`` (replacing any earlier one)."""
    _RUNNERS[dcc] = factory


def known_dccs() -> list[str]:
    """The DCC names that have a runner, sorted."""
    return sorted(_RUNNERS)


def get_runner(dcc: str, settings: Settings | None = None) -> Runner:
    """The runner for ``dcc``, configured from ``settings`` (this process's layered settings,
    ``load_settings()``, when None).

    Raises:
        RenderError: no runner is known for ``dcc``; the message names the known ones.
    """
    factory = _RUNNERS.get(dcc)
    if factory is None:
        known = ", ".join(known_dccs()) or "none"
        raise RenderError(
            f"This agent has no runner for {dcc!r} jobs. It can render: {known}. "
            "Send the job to an agent with that DCC installed."
        )
    return factory(settings if settings is not None else load_settings())


def frame_run(frames: Sequence[int]) -> tuple[int, int, int]:
    """The (first, last, step) of a task's frames, which must be one evenly stepped run.

    Raises:
        RenderError: the frames are empty, unsorted or not evenly stepped.
    """
    if not frames:
        raise RenderError("The task has no frames to render.")
    first, last = frames[0], frames[-1]
    step = frames[1] - frames[0] if len(frames) > 1 else 1
    if step < 1 or list(range(first, last + 1, step)) != list(frames):
        raise RenderError(
            f"The task's frames {list(frames)[:10]} are not one evenly stepped run, "
            "so a renderer cannot take them as start, end and step."
        )
    return first, last, step
