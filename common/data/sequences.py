"""File-name patterns of image sequences and tile sets, and their expansion to files on disk.

Understood in the file name (not in folder names):

* ``####`` (Blender, Maya, Nuke): the frame, zero-padded to the number of ``#``;
* ``%04d`` / ``%d`` (Nuke, printf): the frame, zero-padded to the given width, or not padded;
* ``$F4`` / ``${F4}`` / ``$F`` (Houdini): the frame, zero-padded to the digit, or not padded;
* ``<UDIM>`` (Mari, Maya, Blender, Arnold; any case): the UDIM tile number, 1001 and up.

A name may hold one frame token and one UDIM token. Each file that exists and matches is tagged
with its frame and tile, so a task can ask for only the frames it renders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_TOKEN = re.compile(
    r"(?P<hashes>#+)"
    r"|%(?P<printf>0?\d*)d"
    r"|\$\{F(?P<hbrace>\d*)\}"
    r"|\$F(?P<houdini>\d*)(?![A-Za-z_])"
    r"|(?P<udim><udim>)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SequenceFile:
    """One existing file of a pattern."""

    path: str
    frame: int | None = None
    tile: int | None = None


@dataclass(frozen=True)
class NamePattern:
    """A compiled file-name pattern: its regex and the width of each frame token."""

    regex: re.Pattern[str]
    frame_widths: tuple[int, ...]
    has_tile: bool


def has_pattern(path: str) -> bool:
    """Whether the file name of ``path`` holds a frame or UDIM token."""
    return _TOKEN.search(_split(path)[1]) is not None


def compile_name(name: str) -> NamePattern | None:
    """Compiles a file name with tokens into a regex; None when the name has no token."""
    parts: list[str] = []
    widths: list[int] = []
    has_tile = False
    position = 0
    for match in _TOKEN.finditer(name):
        parts.append(re.escape(name[position : match.start()]))
        position = match.end()
        if match.group("udim"):
            if has_tile:
                parts.append(r"(?P=tile)")
                continue
            parts.append(r"(?P<tile>1\d{3})")
            has_tile = True
            continue
        if match.group("hashes"):
            width = len(match.group("hashes"))
        else:
            digits = next(g for g in match.group("printf", "hbrace", "houdini") if g is not None)
            width = int(digits) if digits else 1
        parts.append(rf"(?P<f{len(widths)}>-?\d+)")
        widths.append(width)
    if not widths and not has_tile:
        return None
    parts.append(re.escape(name[position:]))
    return NamePattern(re.compile("".join(parts) + r"\Z"), tuple(widths), has_tile)


def match_name(pattern: NamePattern, name: str) -> tuple[int | None, int | None] | None:
    """The (frame, tile) of a file name under a pattern, or None when it does not match."""
    match = pattern.regex.match(name)
    if match is None:
        return None
    frame: int | None = None
    for index, width in enumerate(pattern.frame_widths):
        text = match.group(f"f{index}")
        if not _padded_as(text, width):
            return None
        value = int(text)
        if frame is not None and value != frame:
            return None  # two frame tokens must name the same frame
        frame = value
    tile = int(match.group("tile")) if pattern.has_tile else None
    return frame, tile


def expand(
    pattern_path: str, listdir: Callable[[str], Iterable[str]] = os.listdir
) -> list[SequenceFile]:
    """The files on disk that a pattern names, sorted by (frame, tile).

    A path without a token names itself when it exists. A folder that cannot be listed names
    no files.
    """
    folder, name = _split(pattern_path)
    compiled = compile_name(name)
    if compiled is None:
        return [SequenceFile(pattern_path)] if os.path.isfile(pattern_path) else []
    try:
        names = list(listdir(folder or "."))
    except OSError:
        return []
    found = []
    for entry in names:
        tags = match_name(compiled, entry)
        if tags is not None:
            found.append(SequenceFile(_join(pattern_path, folder, entry), *tags))
    return _sorted(found)


def tag_files(pattern_path: str, files: Iterable[str]) -> list[SequenceFile]:
    """Tags given files (a host's list of a sequence's files) with their frame and tile.

    Files whose name does not fit the pattern are kept, untagged.
    """
    compiled = compile_name(_split(pattern_path)[1])
    tagged = []
    for path in files:
        tags = match_name(compiled, _split(path)[1]) if compiled else None
        tagged.append(SequenceFile(path, *tags) if tags else SequenceFile(path))
    return _sorted(tagged)


def _sorted(files: list[SequenceFile]) -> list[SequenceFile]:
    untagged = lambda f: f.frame is None and f.tile is None  # noqa: E731
    return sorted(files, key=lambda f: (untagged(f), f.frame or 0, f.tile or 0, f.path))


def _padded_as(text: str, width: int) -> bool:
    """Whether a frame number is written as a token of ``width`` digits would write it."""
    digits = text.lstrip("-")
    if text.startswith("-"):
        return True  # conventions differ on where the sign goes: accept any
    if len(digits) == width:
        return True
    return len(digits) > width and not digits.startswith("0")


def _split(path: str) -> tuple[str, str]:
    """(folder, name) of a path written with either kind of slash; the folder keeps a root."""
    cut = max(path.rfind("/"), path.rfind("\\"))
    if cut < 0:
        return "", path
    return (path[: cut + 1] if cut == 0 else path[:cut]), path[cut + 1 :]


def _join(pattern_path: str, folder: str, name: str) -> str:
    if not folder:
        return name
    if folder.endswith(("/", "\\")):
        return folder + name
    return f"{folder}{pattern_path[len(folder)]}{name}"
