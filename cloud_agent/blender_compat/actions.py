"""Actions: what the command line asks for, in order, as frozen dataclasses.

``parse_args`` (in ``command_line``) turns arguments into these; ``runtime`` runs them with
``bpy``. ``resolve_frames`` lists the frames a ``-f`` renders once the scene's range is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

#: Blender's limits for a frame number (MINAFRAME / MAXFRAME) and a thread count.
MIN_FRAME = -1_048_574
MAX_FRAME = 1_048_574


@dataclass(frozen=True)
class RelativeFrame:
    """A frame number as written: absolute (``7``), or ``+7`` / ``-7`` relative to the scene."""

    value: int
    sign: str = ""

    def resolve(self, pos: int, neg: int) -> int:
        """Returns the frame, with ``+N`` counted from ``pos`` and ``-N`` back from ``neg``.

        Follows Blender: ``+N`` is ``pos + N`` and ``-N`` is ``neg - N + 1``, clamped to
        Blender's frame limits.
        """
        if self.sign == "+":
            frame = pos + self.value
        elif self.sign == "-":
            frame = neg - self.value + 1
        else:
            frame = self.value
        return min(max(frame, MIN_FRAME), MAX_FRAME)


@dataclass(frozen=True)
class LoadScene:
    """Open a .blend file (a positional argument)."""

    path: str


@dataclass(frozen=True)
class SelectScene:
    """``-S``: make the named scene of the open file the active one."""

    name: str


@dataclass(frozen=True)
class SetOutput:
    """``-o``: the output path pattern (``#`` runs, ``//`` for the .blend's folder)."""

    path: str


@dataclass(frozen=True)
class SetFormat:
    """``-F``: the image format, as the Python API names it (``PNG``, ``OPEN_EXR``...)."""

    file_format: str


@dataclass(frozen=True)
class SetEngine:
    """``-E``: the render engine identifier."""

    engine: str


@dataclass(frozen=True)
class SetFrameStart:
    """``-s``: the scene's first frame (``+N`` / ``-N`` move the current start)."""

    frame: RelativeFrame


@dataclass(frozen=True)
class SetFrameEnd:
    """``-e``: the scene's last frame (``+N`` / ``-N`` move the current end)."""

    frame: RelativeFrame


@dataclass(frozen=True)
class SetFrameStep:
    """``-j``: frames to step forward after each frame of ``-a``."""

    step: int


@dataclass(frozen=True)
class RenderFrames:
    """``-f``: render these frames or inclusive ranges (``1,3,5..7``, ``+1``, ``-1``)."""

    ranges: tuple[tuple[RelativeFrame, RelativeFrame], ...]


@dataclass(frozen=True)
class RenderAnimation:
    """``-a``: render the scene's frame range with its step."""


@dataclass(frozen=True)
class SetThreads:
    """``-t``: render threads; 0 uses every core. Applies to every render that follows."""

    threads: int


@dataclass(frozen=True)
class SetUseExtension:
    """``-x``: whether the file extension is added to output paths."""

    enabled: bool


@dataclass(frozen=True)
class SetAutoexec:
    """``-y`` / ``-Y``: allow or forbid Python scripts inside .blend files opened later."""

    enabled: bool


@dataclass(frozen=True)
class RunPythonExpr:
    """``--python-expr``: run a line of Python."""

    code: str


@dataclass(frozen=True)
class RunPythonFile:
    """``--python``: run a Python file; its ``sys.exit(N)`` ends the command with ``N``."""

    path: str


@dataclass(frozen=True)
class SetPythonExitCode:
    """``--python-exit-code``: exit with this code when a script raises (0: carry on)."""

    code: int


Action: TypeAlias = (
    LoadScene
    | SelectScene
    | SetOutput
    | SetFormat
    | SetEngine
    | SetFrameStart
    | SetFrameEnd
    | SetFrameStep
    | RenderFrames
    | RenderAnimation
    | SetThreads
    | SetUseExtension
    | SetAutoexec
    | RunPythonExpr
    | RunPythonFile
    | SetPythonExitCode
)


def resolve_frames(
    ranges: Sequence[tuple[RelativeFrame, RelativeFrame]], start: int, end: int
) -> list[int]:
    """Lists the frames ``-f`` renders, in order, for a scene ranging ``start`` to ``end``.

    A range that runs backwards once resolved is skipped, as Blender does.
    """
    frames: list[int] = []
    for first, last in ranges:
        low, high = first.resolve(start, end), last.resolve(start, end)
        frames.extend(range(low, high + 1))
    return frames
