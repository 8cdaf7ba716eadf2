"""What Maya nodes hold file paths, and how Maya turns them into sequences and tile sets.

Shared by the offline ``.ma`` reader (short attribute names, as ``.ma`` files write them) and
the Maya plug-in (long names, as ``maya.cmds.getAttr`` takes them), so both find the same files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from common.host import AssetKind


@dataclass(frozen=True)
class FileAttribute:
    """An attribute of a node type that names a file the render reads."""

    node_type: str
    short: str
    long: str
    kind: AssetKind


FILE_ATTRIBUTES: tuple[FileAttribute, ...] = (
    FileAttribute("file", "ftn", "fileTextureName", AssetKind.IMAGE),
    FileAttribute("psdFileTex", "ftn", "fileTextureName", AssetKind.IMAGE),
    FileAttribute("movie", "ftn", "fileTextureName", AssetKind.IMAGE),
    FileAttribute("imagePlane", "imn", "imageName", AssetKind.IMAGE),
    FileAttribute("aiImage", "filename", "filename", AssetKind.IMAGE),
    FileAttribute("PxrTexture", "filename", "filename", AssetKind.IMAGE),
    FileAttribute("RedshiftNormalMap", "tex0", "tex0", AssetKind.IMAGE),
    FileAttribute("RedshiftSprite", "tex0", "tex0", AssetKind.IMAGE),
    FileAttribute("RedshiftDomeLight", "tex0", "tex0", AssetKind.IMAGE),
    FileAttribute("AlembicNode", "fn", "abc_File", AssetKind.CACHE),
    FileAttribute("gpuCache", "cfn", "cacheFileName", AssetKind.CACHE),
    FileAttribute("aiStandIn", "dso", "dso", AssetKind.CACHE),
    FileAttribute("aiVolume", "fn", "filename", AssetKind.CACHE),
    FileAttribute("RedshiftProxyMesh", "fn", "fileName", AssetKind.CACHE),
    FileAttribute("RedshiftVolumeShape", "fn", "fileName", AssetKind.CACHE),
    FileAttribute("VRayMesh", "fn", "fileName", AssetKind.CACHE),
    FileAttribute("VRayVolumeGrid", "if", "inPath", AssetKind.CACHE),
    FileAttribute("mayaUsdProxyShape", "fp", "filePath", AssetKind.CACHE),
    FileAttribute("aiPhotometricLight", "aiFilename", "aiFilename", AssetKind.OTHER),
    FileAttribute("audio", "f", "filename", AssetKind.AUDIO),
)

#: Node types that are render layers, and those that are cameras.
RENDER_LAYER_TYPE = "renderLayer"
CAMERA_TYPE = "camera"

#: ``currentUnit -t`` names and their frames per second.
TIME_UNITS: dict[str, float] = {
    "game": 15.0, "film": 24.0, "pal": 25.0, "ntsc": 30.0, "show": 48.0, "palf": 50.0,
    "ntscf": 60.0, "23.976fps": 23.976, "29.97fps": 29.97, "29.97df": 29.97, "47.952fps": 47.952,
    "59.94fps": 59.94, "44100fps": 44100.0, "48000fps": 48000.0,
}  # fmt: skip

#: ``defaultRenderGlobals.imageFormat`` values and their extensions (51: the plug-in key).
IMAGE_FORMATS: dict[int, str] = {
    0: "gif", 1: "si", 2: "rla", 3: "tif", 4: "tif", 5: "sgi", 6: "als", 7: "iff", 8: "jpg",
    9: "eps", 10: "iff", 11: "cin", 12: "yuv", 13: "sgi", 19: "tga", 20: "bmp", 31: "psd",
    32: "png", 35: "dds", 36: "psd",
}  # fmt: skip

#: Attribute defaults Maya does not write into a file.
DEFAULT_RENDERER = "mayaSoftware"
DEFAULT_RESOLUTION = (320, 240)
DEFAULT_FRAMES = (1, 10)


def fps_of(time_unit: str) -> float:
    """Frames per second of a Maya time unit (``pal``, ``film``, ``30fps``...)."""
    if time_unit in TIME_UNITS:
        return TIME_UNITS[time_unit]
    match = re.fullmatch(r"(\d+(?:\.\d+)?)fps", time_unit)
    return float(match.group(1)) if match else 24.0


def texture_pattern(
    path: str, *, uv_tiling_mode: int = 0, use_frame_extension: bool = False, pattern: str = ""
) -> str:
    """The path pattern a file texture stands for, as Maya computes it.

    Args:
        path: ``fileTextureName``.
        uv_tiling_mode: ``uvTilingMode`` (0 off, 1 ZBrush ``_u0_v0``, 2 Mudbox ``_u1_v1``,
            3 UDIM).
        use_frame_extension: ``useFrameExtension`` (an image sequence).
        pattern: ``computedFileTextureNamePattern`` when the file holds it.

    Returns:
        The path with ``<UDIM>``, ``<UVTILE>`` or ``#`` where Maya substitutes tiles or frames.
    """
    if pattern and ("<" in pattern or "#" in pattern):
        return pattern.replace("<f>", "#")
    folder, name = os.path.split(path)
    if uv_tiling_mode == 3 and "<UDIM>" not in name:
        name = re.sub(r"1\d{3}(?=\D*$)", "<UDIM>", name, count=1)
    elif uv_tiling_mode in (1, 2) and "<UVTILE>" not in name:
        name = re.sub(r"u-?\d+_v-?\d+", "<UVTILE>", name, count=1)
    if use_frame_extension and "#" not in name:
        match = re.search(r"(\d+)(?=\D*$)", name)
        if match:
            name = name[: match.start()] + "#" * len(match.group(1)) + name[match.end() :]
    return os.path.join(folder, name) if folder else name


def arnold_tx(path: str) -> str | None:
    """The ``.tx`` beside a texture that Arnold uses instead of it, when that file exists."""
    root, ext = os.path.splitext(path)
    if ext.lower() == ".tx" or "<" in path or "#" in path:
        return None
    candidate = root + ".tx"
    return candidate if os.path.isfile(candidate) else None
