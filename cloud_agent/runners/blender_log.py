"""Reads Blender's console output, one line at a time, into render events.

Three families of output are understood:

* Blender 2.8 to 4.x, where each progress line starts with the frame::

      Fra:1 Mem:12.34M (Peak 15.00M) | Time:00:00.12 | Remaining:00:01.23 | ... | Sample 8/16

* Blender 5.x, whose logger puts a clock and a category in front of every line, announces each
  frame (``Rendering frame 1``) and puts a space after ``Fra:``; errors of its logger read
  ``ERROR ...``, reports ``Error: ...``::

      00:00.245  render           | Rendering frame 1
      00:00.256  render           | Fra: 1 | Remaining: 00:00.00 | Mem: 2M | Sample 1/4
      00:00.322  render           | Saved: '/tmp/out/f_0001.png'
      00:04.486  cycles           | ERROR Image file '/tmp/tex.png' does not exist.

  The ``bpy`` module prints only the ``Saved:`` and ``Read blend:`` lines of these.

* ``cloudburst-blender`` (``cloud_agent.blender_compat``), which prints the 5.x lines without the
  clock and category, then the classic ``Saved: '...'`` and `` Time: ...`` lines.

The parser is pure and keeps no state: every line that names a frame but no measurable progress
is reported as ``FrameStarted``, so a frame yields many of them. ``iter_events`` drops repeats.
Workbench renders print no ``Fra:`` line at all: only ``Rendering frame`` and ``Saved:``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

from common.models import FailureClass

__all__ = [
    "FAILURE_LINES",
    "BlenderEvent",
    "FrameProgress",
    "FrameSaved",
    "FrameStarted",
    "RenderError",
    "iter_events",
    "parse_line",
]


@dataclass(frozen=True)
class FrameStarted:
    """Blender is working on ``frame`` (synchronising, building BVH, compositing...)."""

    frame: int


@dataclass(frozen=True)
class FrameProgress:
    """``fraction`` (0 to 1) of ``frame`` is rendered, from sample or tile counts."""

    frame: int
    fraction: float


@dataclass(frozen=True)
class FrameSaved:
    """An output image was written to ``path`` (as Blender printed it)."""

    path: str


@dataclass(frozen=True)
class RenderError:
    """Blender reported an error, such as an unreadable scene or a missing file."""

    message: str


BlenderEvent: TypeAlias = FrameStarted | FrameProgress | FrameSaved | RenderError

# Blender 5.x logger prefix: "00:04.230  render           | " (hours appear on long runs).
_CLOG_PREFIX = re.compile(r"^\s*(?:\d+:)?\d{2}:\d{2}\.\d{3}\s+[\w.]+\s+\|\s?")
_FRAME = re.compile(r"^Fra:\s*(-?\d+)\b(.*)$")
_FRAME_BEGIN = re.compile(r"^Rendering frame (-?\d+)\b")  # Blender 5.x, cloudburst-blender
_SAVED_QUOTED = re.compile(r"^Saved:\s*'(.+)'")
_SAVED_BARE = re.compile(r"^Saved:\s*(\S.*?)(?:\s+Time:.*)?$")
# Progress markers, strongest first. Each captures (done, total).
_PROGRESS = (
    re.compile(r"Rendered (\d+)/(\d+) Tiles"),  # Cycles 2.8x-3.x, tiled
    re.compile(r"Path Tracing Tile (\d+)/(\d+)"),  # Cycles 2.8x
    re.compile(r"Rendering (\d+) / (\d+) samples"),  # EEVEE
    re.compile(r"Sample (\d+)/(\d+)"),  # Cycles 3.x and later
)
_FINISHED = re.compile(r"\|\s*Finished\s*$")
_ERROR_PREFIX = re.compile(r"^(?:Error:|ERROR\b:?)\s*(.*)$")
_WARNING_PREFIX = re.compile(r"^(?:Warning:|WARN(?:ING)?\b:?)\s*(.*)$")
_FATAL_WARNING = re.compile(
    r"Unable to open|Cannot read|not found|No such file|cannot be found", re.IGNORECASE
)
_ERROR_SEGMENT = re.compile(r"^\s*Error\b[:,]?\s*(.+)$")

#: Lines that tell why a Blender render failed (``cloud_agent.failure_class``): the scene or a
#: file it reads is missing (Blender's ``Cannot read file '...': No such file or directory``, a
#: texture's ``Image file '...' does not exist``, ``blender_remap.py``'s files not on this
#: node); the scene cannot be read (``File format is not supported``, ``Failed to read blend
#: file``, ``Cannot render, no camera``, a view layer or camera ``blender_target.py`` cannot
#: find); memory ran out (Cycles on a GPU, Blender's own allocator).
FAILURE_LINES: tuple[tuple[FailureClass, re.Pattern[str]], ...] = (
    (
        FailureClass.MISSING_FILE,
        re.compile(r"\bCannot read (?:file )?['\"].+['\"]: No such file or directory"),
    ),
    (
        FailureClass.MISSING_FILE,
        re.compile(r"\bUnable to open ['\"].+['\"]: No such file or directory"),
    ),
    (FailureClass.MISSING_FILE, re.compile(r"\bImage file ['\"].+['\"] does not exist\b")),
    (
        FailureClass.MISSING_FILE,
        re.compile(r"^Error: \[cloudburst\] \d+ file\(s\) the scene needs are not on this node"),
    ),
    (FailureClass.BAD_SCENE, re.compile(r"\bFile format is not supported in file\b")),
    (FailureClass.BAD_SCENE, re.compile(r"\bFailed to read blend file\b")),
    (FailureClass.BAD_SCENE, re.compile(r"\bCannot render, no camera\b")),
    (
        FailureClass.BAD_SCENE,
        re.compile(r"^Error: \[cloudburst\] .*Not rendering: the picture would be wrong\."),
    ),
    (
        FailureClass.OUT_OF_MEMORY,
        re.compile(r"\bOut of memory in (?:CUDA|cuMem|OptiX|HIP|hip|Metal|oneAPI)\w*"),
    ),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\bSystem is out of GPU (?:and shared host )?memory")),
    (FailureClass.OUT_OF_MEMORY, re.compile(r"\b(?:Malloc|Calloc) returns? null\b")),
)


def strip_log_prefix(line: str) -> str:
    """Returns ``line`` without its line ending and without Blender 5.x's clock and category."""
    text = line.rstrip("\r\n")
    match = _CLOG_PREFIX.match(text)
    return text[match.end() :] if match else text


def parse_line(line: str) -> BlenderEvent | None:
    """Turns one line of Blender's output into an event.

    Args:
        line: one line of stdout or stderr, with or without its line ending.

    Returns:
        The event the line reports, or ``None`` for every other line (chatter, timings, blank).
    """
    body = strip_log_prefix(line).strip()
    if not body:
        return None
    if body.startswith("Saved:"):
        return _parse_saved(body)
    frame_match = _FRAME.match(body)
    if frame_match:
        return _parse_frame_line(int(frame_match.group(1)), frame_match.group(2))
    begin_match = _FRAME_BEGIN.match(body)
    if begin_match:
        return FrameStarted(int(begin_match.group(1)))
    error_match = _ERROR_PREFIX.match(body)
    if error_match:
        return RenderError(error_match.group(1).strip() or body)
    warning_match = _WARNING_PREFIX.match(body)
    if warning_match and _FATAL_WARNING.search(warning_match.group(1)):
        return RenderError(warning_match.group(1).strip())
    return None


def iter_events(lines: Iterable[str]) -> Iterator[BlenderEvent]:
    """Parses a stream of lines, reporting ``FrameStarted`` once per frame change.

    Args:
        lines: Blender's output, line by line (a file object or a process pipe will do).

    Yields:
        The events of ``parse_line``, minus repeated ``FrameStarted`` for the current frame.
    """
    current: int | None = None
    for line in lines:
        event = parse_line(line)
        if event is None:
            continue
        if isinstance(event, FrameStarted):
            if event.frame == current:
                continue
            current = event.frame
        elif isinstance(event, FrameProgress) and event.frame != current:
            current = event.frame
            yield FrameStarted(event.frame)
        yield event


def _parse_saved(body: str) -> FrameSaved | None:
    match = _SAVED_QUOTED.match(body) or _SAVED_BARE.match(body)
    return FrameSaved(match.group(1)) if match else None


def _parse_frame_line(frame: int, rest: str) -> BlenderEvent:
    for segment in rest.split("|"):
        error = _ERROR_SEGMENT.match(segment)
        if error:
            return RenderError(error.group(1).strip())
    for pattern in _PROGRESS:
        match = pattern.search(rest)
        if match:
            done, total = int(match.group(1)), int(match.group(2))
            if total > 0:
                return FrameProgress(frame, min(max(done / total, 0.0), 1.0))
    if _FINISHED.search(rest):
        return FrameProgress(frame, 1.0)
    return FrameStarted(frame)
