"""Frame and tile tokens in file paths, and the ``Asset`` a path stands for on disk.

Every DCC writes "one file per frame" differently, and scenes keep the notation they were
saved with, so every notation is recognised wherever it appears:

=========================  ==============================  ===========================
notation                   written by                      frame 7 becomes
=========================  ==============================  ===========================
``####`` (run of ``#``)    Nuke, Blender, Maya patterns    ``0007`` (one digit per ``#``)
``%04d``, ``%d``           Nuke, printf style              ``0007``, ``7``
``$F4``, ``${F4}``, ``$F`` Houdini                         ``0007``, ``0007``, ``7``
``<f>``                    Maya file-node patterns         ``7``
=========================  ==============================  ===========================

Texture tiles: ``<UDIM>`` (Mari, Maya, Arnold, RenderMan), ``%(UDIM)d`` (Houdini),
``<UVTILE>`` and ``<U>``/``<V>`` (Mudbox, ZBrush). A tile set exists when at least one tile
does; which tiles a mesh uses is not known without the geometry, so none are reported missing.

Windows paths (``C:/...``, ``\\\\server\\share``) are kept as written and reported not found on
other systems: a render node maps them through path mapping, never by guessing here.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Mapping

from common.host import Asset, AssetKind

_FRAME_TOKEN = re.compile(
    r"(?P<hash>#+)"
    r"|%(?P<printf>0?\d*)d"
    r"|\$\{F(?P<braced>\d?)\}"
    r"|\$F(?P<hou>\d?)(?![A-Za-z_0-9])"
    r"|<f>"
)
_TILE_TOKEN = re.compile(r"<UDIM>|<udim>|%\(UDIM\)d|<UVTILE>|<uvtile>|<U>_?<V>|u<U>_v<V>")
_TILE_PATTERNS = {
    "<UDIM>": r"1\d{3}",
    "<udim>": r"1\d{3}",
    "%(UDIM)d": r"1\d{3}",
    "<UVTILE>": r"u\d+_v\d+",
    "<uvtile>": r"u\d+_v\d+",
}
_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\|//[^/])")


def is_windows_path(path: str) -> bool:
    """Whether ``path`` is a Windows drive or UNC path (``C:/x``, ``D:\\x``, ``\\\\srv\\x``)."""
    return bool(_WINDOWS_PATH.match(path)) and os.name != "nt"


def has_frame_token(path: str) -> bool:
    """Whether ``path`` names one file per frame."""
    return _FRAME_TOKEN.search(path) is not None


def has_tile_token(path: str) -> bool:
    """Whether ``path`` names a set of texture tiles."""
    return _TILE_TOKEN.search(path) is not None


def frame_path(pattern: str, frame: int) -> str:
    """The file of ``frame`` in ``pattern``: every frame token replaced, zero-padded."""

    def replace(match: re.Match[str]) -> str:
        if match.group("hash") is not None:
            width = len(match.group("hash"))
        elif match.group("printf") is not None:
            width = int(match.group("printf") or 0)
        elif match.group("braced") is not None:
            width = int(match.group("braced") or 0)
        elif match.group("hou") is not None:
            width = int(match.group("hou") or 0)
        else:
            width = 0
        return f"{frame:0{width}d}"

    return _FRAME_TOKEN.sub(replace, pattern)


def tile_files(pattern: str) -> list[str]:
    """The tiles of a UDIM/UVTILE pattern that exist, sorted."""
    folder, name = os.path.split(pattern)
    regex = ""
    pos = 0
    for match in _TILE_TOKEN.finditer(name):
        regex += re.escape(name[pos : match.start()])
        token = match.group(0)
        regex += _TILE_PATTERNS.get(token, r"u?\d+_v?\d+")
        pos = match.end()
    regex += re.escape(name[pos:])
    compiled = re.compile(regex + r"\Z")
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return []
    return sorted(os.path.join(folder, n) for n in names if compiled.match(n))


def _size(paths: Iterable[str]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):
            total += os.stat(path).st_size
    return total


def _exists(path: str) -> bool:
    return os.path.isfile(path) or os.path.isdir(path)


def dependency(
    path: str, kind: AssetKind, *, frames: Iterable[int] = (), source: str = ""
) -> Asset:
    """The ``Asset`` for a file the scene reads, checked on disk.

    Args:
        path: the path with variables expanded; frame and tile tokens are kept.
        kind: what the file is.
        frames: for a path with a frame token, the frames the scene needs (each one's file
            must exist); ignored for other paths.
        source: where the scene uses it (node and attribute).

    Returns:
        The asset; a sequence lists its existing files and its missing ones.
    """
    if has_frame_token(path):
        wanted = [frame_path(path, f) for f in sorted(set(frames))]
        if is_windows_path(path):
            return Asset(path, kind, False, missing_files=tuple(wanted), source=source)
        found = tuple(p for p in wanted if _exists(p))
        missing = tuple(p for p in wanted if p not in set(found))
        exists = bool(found) and not missing
        return Asset(path, kind, exists, _size(found), found, missing, source)
    if has_tile_token(path):
        tiles = () if is_windows_path(path) else tuple(tile_files(path))
        return Asset(path, kind, bool(tiles), _size(tiles), tiles, (), source)
    if is_windows_path(path):
        return Asset(path, kind, False, source=source)
    exists = _exists(path)
    return Asset(path, kind, exists, _size([path]) if exists else 0, source=source)


def output(path: str, kind: AssetKind, *, frames: Iterable[int] = (), source: str = "") -> Asset:
    """The ``Asset`` for a file the scene writes: ``files`` are the frames already on disk.

    Nothing is reported missing (outputs are expected not to exist before the render);
    ``exists`` says whether any of it is on disk already (it would be overwritten).
    """
    if is_windows_path(path):
        return Asset(path, kind, False, source=source)
    if has_frame_token(path):
        found = tuple(p for p in (frame_path(path, f) for f in sorted(set(frames))) if _exists(p))
    else:
        found = (path,) if _exists(path) else ()
    return Asset(path, kind, bool(found), _size(found), found, (), source)


def evaluated_dependency(
    pattern: str, kind: AssetKind, files: Mapping[int, str], *, source: str = ""
) -> Asset:
    """The ``Asset`` for a file the scene reads, as the DCC evaluated it frame by frame.

    Args:
        pattern: the path with its frame token (shown to people).
        kind: what the file is.
        files: the file the DCC names for each frame asked (one entry for a single file).
        source: where the scene uses it.
    """
    paths = sorted(set(files.values()))
    if len(paths) <= 1 and not has_frame_token(pattern):
        return dependency(paths[0] if paths else pattern, kind, source=source)
    if is_windows_path(pattern) or any(is_windows_path(p) for p in paths):
        return Asset(pattern, kind, False, missing_files=tuple(paths), source=source)
    found = tuple(p for p in paths if _exists(p))
    missing = tuple(p for p in paths if not _exists(p))
    return Asset(pattern, kind, bool(found) and not missing, _size(found), found, missing, source)
