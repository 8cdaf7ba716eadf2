"""Frame specifications (``1-100``, ``1-100x5``, ``1,5,10-20``, ``-10--1``) and chunking.

A spec is a comma-separated list of terms; a term is a frame (``7``), a range (``1-100``) or a
stepped range (``1-100x5``). Frames may be negative. The parsed result is sorted and free of
duplicates. Errors say what is wrong with which term and how to write it instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from common.errors import FrameSpecError

MAX_FRAMES = 1_000_000
#: Blender's own limit for a frame number, and a sane one for every DCC.
MAX_FRAME_NUMBER = 1_048_574

_TERM = re.compile(r"^(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?$")


def parse_frames(spec: str, limit: int = MAX_FRAMES) -> list[int]:
    """Parses a frame spec into the sorted list of distinct frames it names.

    The count is checked (``count_frames``) before any frame is expanded into memory.

    Raises:
        FrameSpecError: the spec is empty, malformed, runs backwards, names a frame beyond
            the limit, or names more than ``limit`` frames.
    """
    count = count_frames(spec)
    if count > limit:
        raise FrameSpecError(
            f"The frame range {spec!r} names {count:,} frames, more than {limit:,}. "
            "Split it into several jobs."
        )
    frames: set[int] = set()
    for first, last, step in _terms(spec):
        frames.update(range(first, last + 1, step))
    return sorted(frames)


def count_frames(spec: str) -> int:
    """How many frames ``spec`` names, term by term, without expanding them: a frame named
    by two terms counts twice, so the count is never below the number of distinct frames.

    Raises:
        FrameSpecError: as ``parse_frames``, or the count is past ``MAX_FRAMES``.
    """
    count = sum((last - first) // step + 1 for first, last, step in _terms(spec))
    if count > MAX_FRAMES:
        raise FrameSpecError(
            f"The frame range {spec!r} names more than {MAX_FRAMES:,} frames. "
            "Split it into several jobs."
        )
    return count


def _terms(spec: str) -> Iterator[tuple[int, int, int]]:
    """The spec's terms as (first, last, step), each checked."""
    if not isinstance(spec, str) or not spec.strip():
        raise FrameSpecError("The frame range is empty. Write frames such as 1-100 or 1,5,10-20.")
    for raw in spec.split(","):
        term = raw.strip().replace(" ", "")
        if not term:
            raise FrameSpecError(
                f"The frame range {spec!r} has an empty part between commas. "
                "Write frames such as 1,5,10-20."
            )
        match = _TERM.match(term)
        if match is None:
            raise FrameSpecError(
                f"{term!r} is not a frame or a range. Write a frame (7), a range (1-100) or "
                "a stepped range (1-100x5); negative frames are written -10--1."
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        step = int(match.group(3)) if match.group(3) is not None else 1
        for frame in (first, last):
            if abs(frame) > MAX_FRAME_NUMBER:
                raise FrameSpecError(
                    f"Frame {frame} in {term!r} is beyond the largest frame number "
                    f"({MAX_FRAME_NUMBER})."
                )
        if last < first:
            raise FrameSpecError(
                f"The range {term!r} runs backwards. Write it from low to high: {last}-{first}."
            )
        if step < 1:
            raise FrameSpecError(f"The step in {term!r} must be 1 or more, as in 1-100x5.")
        yield first, last, step


def format_frames(frames: Iterable[int]) -> str:
    """Writes frames back as the shortest spec of stepped ranges (``1-9x2,20``)."""
    parts = []
    for run in _runs(sorted(set(frames)), max_len=None):
        if len(run) == 1:
            parts.append(str(run[0]))
        elif len(run) == 2 and run[1] - run[0] != 1:
            parts.extend((str(run[0]), str(run[1])))
        else:
            step = run[1] - run[0]
            parts.append(f"{run[0]}-{run[-1]}" + (f"x{step}" if step != 1 else ""))
    return ",".join(parts)


def chunk_frames(frames: Sequence[int], size: int) -> list[list[int]]:
    """Splits sorted frames into tasks of at most ``size`` frames, each an even-stepped run.

    An even step lets every renderer take a chunk as start, end and step.
    """
    if size < 1:
        raise FrameSpecError("The chunk size must be 1 or more frames per task.")
    return _runs(list(frames), max_len=size)


def _runs(frames: list[int], max_len: int | None) -> list[list[int]]:
    """Groups sorted frames into runs with one step each, of at most ``max_len`` frames."""
    runs: list[list[int]] = []
    current: list[int] = []
    for frame in frames:
        full = max_len is not None and len(current) >= max_len
        if not current:
            current = [frame]
        elif full or (len(current) >= 2 and frame - current[-1] != current[1] - current[0]):
            runs.append(current)
            current = [frame]
        else:
            current.append(frame)
    if current:
        runs.append(current)
    return runs
