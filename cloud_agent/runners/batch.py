"""What the Maya, Houdini and Nuke runners share: their executables, their log events, and a
``TaskRender`` for batch renderers that write one file (or one per view) per frame.

Those renderers write their frames where the scene (or the command line) says; the attempt
follows their log (``FrameStarted``, ``FrameProgress``, ``FileWritten``, ``FrameFinished``,
``LogError``, produced by each DCC's log parser) for progress, and after the program exits
checks every frame of the task against the files on disk.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from cloud_agent.runners.base import LineReport, frame_run
from common.errors import ConfigError, RenderError
from common.frames import format_frames
from common.models import TaskAssignment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrameStarted:
    """The renderer began a frame (``None``: the next frame of the task)."""

    frame: int | None = None


@dataclass(frozen=True)
class FrameProgress:
    """A share (0..1) of the current frame (or of ``frame``) is rendered."""

    fraction: float
    frame: int | None = None


@dataclass(frozen=True)
class FileWritten:
    """The renderer wrote ``path`` (its frame, when the log says which)."""

    path: str
    frame: int | None = None


@dataclass(frozen=True)
class FrameFinished:
    """The renderer finished a frame (``None``: the current one)."""

    frame: int | None = None


@dataclass(frozen=True)
class LogError:
    """The renderer reported an error."""

    message: str


LogEvent: TypeAlias = FrameStarted | FrameProgress | FileWritten | FrameFinished | LogError
LogParser = Callable[[str], LogEvent | None]


def resolve_executable(
    configured: str,
    *,
    env_var: str,
    default: str,
    program: str,
    which: Callable[[str], str | None] = shutil.which,
) -> str:
    """The full path of a DCC's batch program on this node.

    Args:
        configured: the setting's value (empty when not set); the setting comes through the
            usual layers, so ``env_var`` sets it from the environment.
        env_var: the setting's environment variable (``CLOUDBURST_MAYA_RENDER``), for messages.
        default: the program looked for on PATH when the setting is empty (``Render``).
        program: how people call it, for messages ("Maya's Render").

    Raises:
        ConfigError: the program is not found or not executable; the agent then leaves this
            DCC out.
    """
    wanted = configured or default
    found = which(wanted)
    if found is None:
        raise ConfigError(
            f"{program} ({wanted!r}) is not on this node, so it cannot render these jobs. "
            f"Install it, or set {env_var} to its full path."
        )
    return found


def make_output_folder(output: str) -> None:
    """Creates the folder of an output pattern (``$HIP/...`` and other variables skipped).

    Raises:
        RenderError: the folder cannot be created here.
    """
    folder = os.path.dirname(os.path.abspath(os.path.expanduser(output)))
    if "$" in folder or "[" in folder:
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise RenderError(
            f"Cannot create the output folder {folder}: {exc.strerror or exc}. "
            "Check the job's output path and that this render node may write there."
        ) from None


class BatchRender:
    """One attempt of a batch renderer writing files per frame (``TaskRender``).

    Used by one thread (the agent's main thread).

    Args:
        assignment: the task.
        command: the program and its arguments.
        env: variables added to the agent's environment.
        expected: for a frame, the glob patterns of its files (each must match a file).
        parse: the renderer's log parser.
        label: the renderer's name in messages ("Maya", "Nuke").
    """

    def __init__(
        self,
        assignment: TaskAssignment,
        command: Sequence[str],
        env: Mapping[str, str],
        expected: Callable[[int], list[str]],
        parse: LogParser,
        label: str,
    ) -> None:
        self.assignment = assignment
        self.frames = list(assignment.frames)
        frame_run(self.frames)  # refuses frames a renderer cannot take as start, end and step
        self.command = list(command)
        self.env = {"PYTHONUNBUFFERED": "1", **env}
        self.expected = expected
        self.parse = parse
        self.label = label
        self._files: dict[int, list[str]] = {}
        self._errors: list[str] = []
        self._current: int | None = None
        self._fraction = 0.0
        self._progress = 0.0

    # --- TaskRender ------------------------------------------------------------------------

    def interpret(self, line: str) -> LineReport:
        """Reads one line of the renderer's output."""
        event = self.parse(line)
        if event is None:
            return LineReport()
        if isinstance(event, LogError):
            self._errors.append(event.message)
            return LineReport(error=event.message)
        if isinstance(event, FrameStarted):
            # a new frame: the one before is over (RenderMan names no file it writes)
            before = self._current
            self._start(event.frame)
            if before is not None and before != self._current and self._finished(before):
                return LineReport(progress=self._update(), frames_done=(before,))
        elif isinstance(event, FrameProgress):
            fraction = min(max(event.fraction, 0.0), 1.0)
            if event.frame is not None and event.frame != self._current:
                self._start(event.frame)
            elif self._current is None:
                self._start(None)
            elif event.frame is None and self._fraction >= 0.99 and fraction < 0.5:
                # a percentage that starts over (ALF_PROGRESS): the previous frame is over
                done = self._current
                self._start(None)
                if done not in self._files and self._check(done):
                    self._fraction = fraction
                    return LineReport(progress=self._update(), frames_done=(done,))
            self._fraction = max(self._fraction, fraction)
        elif isinstance(event, FileWritten | FrameFinished):
            if isinstance(event, FileWritten):
                frame = event.frame if event.frame is not None else self._frame_of(event.path)
            else:
                frame = event.frame if event.frame is not None else self._current
            if frame is not None and frame not in self._files and self._check(frame):
                return LineReport(progress=self._update(), frames_done=(frame,))
        return LineReport(progress=self._update())

    def frames_done(self) -> list[int]:
        return [frame for frame in self.frames if frame in self._files]

    def progress(self) -> float:
        return self._progress

    def finish(self, exit_code: int | None) -> list[str]:
        """The files of every frame, in frame order, once the renderer has exited.

        Raises:
            RenderError: the renderer failed, or frames have no file; the message says which
                frames and gives the renderer's last error.
        """
        for frame in self.frames:
            if frame not in self._files:
                self._check(frame)
        missing = [frame for frame in self.frames if frame not in self._files]
        last_error = f" {self.label}'s last error: {self._errors[-1]}" if self._errors else ""
        if exit_code != 0:
            how = "could not start" if exit_code is None else f"exited with code {exit_code}"
            raise RenderError(
                f"{self.label} {how} after writing {len(self.frames) - len(missing)} of "
                f"{len(self.frames)} frame(s).{last_error}"
            )
        if missing:
            raise RenderError(
                f"{self.label} finished but wrote no file for frame(s) {format_frames(missing)} "
                f"({len(missing)} of {len(self.frames)}), expected at "
                f"{', '.join(self.expected(missing[0]))}.{last_error}"
            )
        self._update()
        return [path for frame in self.frames for path in self._files[frame]]

    def cleanup(self) -> None:
        """Nothing to remove: these renderers write their frames where the job says."""

    # --- helpers ---------------------------------------------------------------------------

    def _start(self, frame: int | None) -> None:
        if frame is None:
            pending = [f for f in self.frames if f not in self._files and f != self._current]
            frame = pending[0] if pending else self._current
        self._current, self._fraction = frame, 0.0

    def _finished(self, frame: int) -> bool:
        """Whether ``frame`` was not done before and its files are on disk now."""
        return frame not in self._files and self._check(frame)

    def _frame_of(self, path: str) -> int | None:
        real = os.path.realpath(path)
        for frame in self.frames:
            for pattern in self.expected(frame):
                if any(os.path.realpath(p) == real for p in glob.glob(pattern, recursive=True)):
                    return frame
        return None

    def _check(self, frame: int) -> bool:
        """Records the frame as done when each of its patterns matches a file."""
        if frame in self._files or frame not in self.frames:
            return frame in self._files
        files: list[str] = []
        for pattern in self.expected(frame):
            matches = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
            if not matches:
                return False
            files += [m for m in matches if m not in files]
        self._files[frame] = files
        logger.debug("task %s: frame %s written: %s", self.assignment.task_id, frame, files)
        return True

    def _update(self) -> float:
        done = len(self._files)
        current = self._current
        partial = self._fraction if current is not None and current not in self._files else 0.0
        value = min((done + partial) / len(self.frames), 1.0)
        if done < len(self.frames):
            value = min(value, 0.999)
        self._progress = max(self._progress, value)
        return self._progress
