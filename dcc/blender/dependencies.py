"""Every file a saved .blend needs, through Blender Asset Tracer (BAT), without ``bpy``.

BAT reads the file on disk (zstd-compressed ones too) and follows linked libraries into their
own dependencies. Each use it reports becomes a ``common.host.Asset``: images, UDIM tile sets
and image sequences, linked libraries, Alembic/USD/VDB and point caches, fonts, sounds, movie
clips, missing files included. Uses of one file by several datablocks are merged.
"""

from __future__ import annotations

import logging
import os
import re
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from blender_asset_tracer import cdefs
from blender_asset_tracer import trace as bat_trace
from blender_asset_tracer.blendfile import BlendFileBlock
from blender_asset_tracer.blendfile.exceptions import BlendFileError
from blender_asset_tracer.trace import file_sequence, modifier_walkers
from blender_asset_tracer.trace.result import BlockUsage

from common.errors import UserFacingError
from common.host import Asset, AssetKind

logger = logging.getLogger(__name__)

#: What each datablock code holds, and the word the panel shows for it.
_CODES: dict[str, tuple[AssetKind, str]] = {
    "IM": (AssetKind.IMAGE, "Image"),
    "MC": (AssetKind.IMAGE, "Movie clip"),
    "LI": (AssetKind.REFERENCE, "Library"),
    "CF": (AssetKind.CACHE, "Cache file"),
    "VO": (AssetKind.CACHE, "Volume"),
    "ME": (AssetKind.OTHER, "Mesh"),
    "SO": (AssetKind.AUDIO, "Sound"),
    "VF": (AssetKind.FONT, "Font"),
}
_BY_EXTENSION: dict[AssetKind, frozenset[str]] = {
    AssetKind.CACHE: frozenset({".abc", ".usd", ".usda", ".usdc", ".usdz", ".vdb", ".bphys",
                                ".mdd", ".pc2", ".bgeo", ".sc"}),
    AssetKind.AUDIO: frozenset({".wav", ".mp3", ".flac", ".ogg", ".aac", ".aif", ".aiff"}),
    AssetKind.FONT: frozenset({".ttf", ".otf", ".pfb"}),
    AssetKind.REFERENCE: frozenset({".blend"}),
}  # fmt: skip
#: Longest run of frame numbers a sequence's gaps are counted over.
_MAX_SPAN = 100_000

_bat_nodes_modifier = modifier_walkers.modifier_handlers.get(cdefs.eModifierType_Nodes)


@modifier_walkers.mod_handler(cdefs.eModifierType_Nodes)
def _nodes_modifier(
    ctx: modifier_walkers.ModifierContext, modifier: BlendFileBlock, block_name: bytes
) -> Iterator[BlockUsage]:
    """BAT's walk of a Geometry Nodes modifier's bakes, for a modifier that has some.

    Blender 5 saves a Geometry Nodes modifier without bakes (``bakes_num`` 0) with its
    ``bakes`` pointer dangling; BAT 1.23 follows it and stops the whole trace ("address does
    not exist"), so no scene using Geometry Nodes could be read. A modifier without bakes has
    no baked files to find. Registered through BAT's own hook for modifier walkers.
    """
    if modifier.has_field(b"bakes_num") and modifier.get(b"bakes_num") == 0:
        return
    if _bat_nodes_modifier is not None:
        yield from _bat_nodes_modifier(ctx, modifier, block_name)


def trace(
    blend: str | os.PathLike[str],
    udim_tiles: Mapping[str, Sequence[int]] | None = None,
    also: Iterable[tuple[str, str, bool, str]] = (),
) -> list[Asset]:
    """Lists the dependencies of a saved .blend file.

    Runs on any thread (it only reads files); the add-on calls it on Blender's main thread.

    Args:
        blend: the .blend file.
        udim_tiles: for each tiled image, its absolute path with ``<UDIM>`` and the tiles
            Blender expects (``scene.udim_tiles()``); tiles without a file are reported missing.
        also: files Blender itself reports that BAT may not reach, as ``(absolute path, kind,
            is a sequence, where used)`` (``scene.linked_files()``). BAT 1.x does not follow
            Blender 5's material node trees inside linked libraries, so their images come
            from here.

    Returns:
        One asset per file, image sequence or tile set, sorted by path.

    Raises:
        UserFacingError: the file cannot be read as a .blend file.
    """
    path = Path(blend)
    try:
        usages = list(bat_trace.deps(path))
    except (OSError, BlendFileError) as exc:
        raise UserFacingError(
            f"Cannot read the dependencies of {path}: {exc}. Save the scene again and retry."
        ) from exc
    expected = {os.path.normpath(k): list(v) for k, v in (udim_tiles or {}).items()}
    found = [_from_path(u.abspath, *_describe(u), u.is_sequence, expected) for u in usages]
    for path_text, kind, is_sequence, source in also:
        found.append(_from_path(Path(path_text), AssetKind(kind), source, is_sequence, expected))
    merged: dict[str, Asset] = {}
    for asset in found:
        earlier = merged.get(asset.path)
        if earlier is not None:
            sources = earlier.source.split(", ")
            if asset.source not in sources:
                sources.append(asset.source)
            asset = replace(earlier, source=", ".join(sources))
        merged[asset.path] = asset
    logger.info("%s: %d dependencies, %d missing", path, len(merged),
                sum(not a.exists for a in merged.values()))  # fmt: skip
    return sorted(merged.values(), key=lambda a: a.path)


def _from_path(
    path: Path,
    kind: AssetKind,
    source: str,
    is_sequence: bool,
    udim_tiles: Mapping[str, list[int]],
) -> Asset:
    """The asset for one used path: a file, a folder, a ``<UDIM>`` set, a glob or a sequence."""
    if not is_sequence:
        exists = path.exists()
        files = [path] if path.is_file() else list(_walk(path)) if exists else []
        return Asset(str(path), kind, exists, _size(files), source=source)
    text = str(path)
    files = _expand(path)
    missing: list[str] = []
    if "<UDIM>" in path.name:
        tiles = udim_tiles.get(os.path.normpath(text), [])
        missing = [t for n in tiles if not os.path.exists(t := text.replace("<UDIM>", str(n)))]
    elif "*" not in text and not path.is_dir():
        text, missing = _numbered_sequence(path, files)
    exists = bool(files) and not missing
    return Asset(
        text, kind, exists, _size(files), files=tuple(str(f) for f in files),
        missing_files=tuple(missing), source=source,
    )  # fmt: skip


def _describe(usage: BlockUsage) -> tuple[AssetKind, str]:
    """The asset's kind and where it is used (``Image 'wood'``, ``PointCache 'Cube...'``)."""
    name = usage.block_name.decode("utf-8", errors="replace")
    code = name[:2]
    if code in _CODES and usage.block.code == code.encode():
        kind, label = _CODES[code]
        return kind, f"{label} {name[2:]!r}"
    kind = _kind_by_extension(usage.abspath.suffix.lower())
    label = usage.block.dna_type_name or "data"
    if name.startswith("OB") and ".modifiers[" in name:
        return AssetKind.CACHE, f"{label} of object {name[2:].partition('.modifiers')[0]!r}"
    return kind, label if name == "-unnamed-" else f"{label} {name!r}"


def _kind_by_extension(suffix: str) -> AssetKind:
    for kind, suffixes in _BY_EXTENSION.items():
        if suffix in suffixes:
            return kind
    return AssetKind.IMAGE


def _expand(path: Path) -> list[Path]:
    try:
        return [p for p in file_sequence.expand_sequence(path) if p.is_file()]
    except file_sequence.DoesNotExist:
        return []


def _numbered_sequence(first: Path, files: list[Path]) -> tuple[str, list[str]]:
    """The sequence's ``#`` pattern from its first file, and the files missing in its range."""
    stem = first.stem
    prefix = stem.rstrip(string.digits)
    digits = len(stem) - len(prefix)
    if not digits:
        return str(first), []
    pattern = str(first.with_name(f"{prefix}{'#' * digits}{first.suffix}"))
    number = re.compile(rf"^{re.escape(prefix)}(\d+){re.escape(first.suffix)}$")
    found = {int(m[1]) for f in files if (m := number.match(f.name))}
    if not found:
        return pattern, [str(first)]
    low, high = min(found), max(found)
    if high - low > _MAX_SPAN:
        return pattern, []
    gaps = [n for n in range(low, high + 1) if n not in found]
    return pattern, [str(first.with_name(f"{prefix}{n:0{digits}d}{first.suffix}")) for n in gaps]


def _walk(folder: Path) -> Iterable[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


def _size(files: Iterable[Path]) -> int:
    total = 0
    for file in files:
        try:
            total += file.stat().st_size
        except OSError:
            continue
    return total
