"""A saved .blend file's facts and dependencies without Blender, through Blender Asset Tracer.

``read_blend`` is the offline reader of ``.blend`` files (``cloudburst scan``): the scene facts
come from the file's own data blocks (the active scene's render settings, camera and view
layers), the dependencies from ``dependencies.trace``, the same code the Blender panel uses.
The UDIM tiles of each tiled image come from the file too: an image whose ``source`` is
tiled keeps its tiles (``Image.tiles``, each with its ``tile_number``) in the .blend, so a
tile that has no file is reported missing, as the panel (which asks Blender) reports it.
Nothing here imports ``bpy``. What only Blender knows is said in the report's warnings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blender_asset_tracer import blendfile
from blender_asset_tracer.blendfile.exceptions import BlendFileError

from common.errors import InvalidInput
from common.host import RenderTarget, SceneInfo
from common.scene_readers.report import SceneReport
from dcc.blender import dependencies

logger = logging.getLogger(__name__)

#: Blender's engine identifiers, as the farm names renderers (as ``scene.py`` does).
_ENGINES = {
    "CYCLES": "cycles",
    "BLENDER_EEVEE": "eevee",
    "BLENDER_EEVEE_NEXT": "eevee",
    "BLENDER_WORKBENCH": "workbench",
}
#: ``ImageFormatData.imtype`` values (DNA ``R_IMF_IMTYPE_*``) and Blender's format names.
_FORMATS = {
    0: "TARGA", 4: "JPEG", 14: "TARGA_RAW", 17: "PNG", 20: "BMP", 21: "HDR", 22: "TIFF",
    23: "OPEN_EXR", 24: "FFMPEG", 26: "CINEON", 27: "DPX", 28: "OPEN_EXR_MULTILAYER",
    30: "JPEG2000", 35: "WEBP",
}  # fmt: skip
_OB_CAMERA = 11
#: ``Image.source`` of a UDIM tile set (DNA ``IMA_SRC_TILED``).
_IMA_SRC_TILED = 6
_VIEW_LAYER_RENDER = 1
#: What a reading without Blender cannot know; shown with every report.
NEEDS_BLENDER = (
    "Needs Blender: images used by material node trees inside linked libraries saved by "
    "Blender 5 (Blender Asset Tracer does not follow them); the Blender panel lists them.",
    "Needs Blender: values set by drivers, Python or the command line (frame range, output "
    "path and engine are as saved).",
)


def read_blend(path: str, env: Mapping[str, str] | None = None) -> SceneReport:
    """Reads a saved .blend file without Blender.

    Args:
        path: the .blend file.
        env: unused (Blender paths hold no variables); accepted as every reader does.

    Returns:
        The active scene's facts, every file the file needs (missing ones included) and its
        render output.

    Raises:
        InvalidInput: the file is not a .blend file Blender Asset Tracer can read.
    """
    scene_path = os.path.abspath(path)
    try:
        info = _scene_info(Path(scene_path))
        assets = dependencies.trace(scene_path, udim_tiles=udim_tiles(Path(scene_path)))
    except (OSError, BlendFileError) as exc:
        raise InvalidInput(f"Cannot read {scene_path} as a .blend file: {exc}.") from exc
    finally:
        blendfile.close_all_cached()
    return SceneReport(info=info, dependencies=tuple(assets), warnings=NEEDS_BLENDER)


def _scene_info(path: Path) -> SceneInfo:
    """The facts of the file's active scene (the one it was saved with)."""
    bf = blendfile.open_cached(path)
    globals_ = bf.find_blocks_from_code(b"GLOB")
    scene = globals_[0].get_pointer(b"curscene") if globals_ else None
    if scene is None:
        scenes = bf.find_blocks_from_code(b"SC")
        if not scenes:
            raise InvalidInput(f"{path} holds no scene.")
        scene = scenes[0]
    engine_id = _text(_get(scene, (b"r", b"engine")))
    engine = _ENGINES.get(engine_id, engine_id.lower())
    camera_block = scene.get_pointer(b"camera")
    camera = _id_name(camera_block) if camera_block is not None else ""
    output = _text(_get(scene, (b"r", b"pic")))
    percent = int(_get(scene, (b"r", b"size"), 100) or 100) / 100.0
    resolution = (
        round(int(_get(scene, (b"r", b"xsch"))) * percent),
        round(int(_get(scene, (b"r", b"ysch"))) * percent),
    )
    fps = float(_get(scene, (b"r", b"frs_sec"))) / float(_get(scene, (b"r", b"frs_sec_base")) or 1)
    targets = tuple(
        RenderTarget(
            name=name,
            kind="view_layer",
            cameras=(camera,) if camera else (),
            output=output,
            renderer=engine,
            enabled=enabled,
        )
        for name, enabled in _view_layers(scene)
    )
    cameras = sorted(
        _id_name(block)
        for block in bf.find_blocks_from_code(b"OB")
        if block.get(b"type") == _OB_CAMERA
    )
    return SceneInfo(
        dcc="blender",
        scene_path=str(path),
        frame_start=int(_get(scene, (b"r", b"sfra"))),
        frame_end=int(_get(scene, (b"r", b"efra"))),
        frame_step=int(_get(scene, (b"r", b"frame_step")) or 1),
        fps=round(fps, 3),
        renderer=engine,
        resolution=resolution,
        targets=targets,
        cameras=tuple(cameras),
        output=output,
        output_format=_FORMATS.get(int(_get(scene, (b"r", b"im_format", b"imtype"))), ""),
        extra={
            "project_root": str(path.parent),
            "camera": camera,
            "scene": _id_name(scene),
            "blender_version": _version(bf),
        },
    )


def udim_tiles(path: Path) -> dict[str, list[int]]:
    """The tiles each tiled image of the .blend at ``path`` uses, by its absolute path with
    ``<UDIM>`` (the keys ``dependencies.trace`` takes). Images of linked libraries are their
    own files' business."""
    bf = blendfile.open_cached(path)
    tiles: dict[str, list[int]] = {}
    for image in bf.find_blocks_from_code(b"IM"):
        if int(_get(image, (b"source",), 0)) != _IMA_SRC_TILED:
            continue
        written = _text(_get(image, (b"name",), b""))
        if "<UDIM>" not in written:
            continue
        if written.startswith("//"):
            written = os.path.join(str(path.parent), written[2:])
        numbers = []
        try:
            tile = image.get_pointer((b"tiles", b"first"))
        except KeyError:  # saved before Blender 2.82: no tiles
            tile = None
        while tile is not None:
            numbers.append(int(tile.get(b"tile_number")))
            tile = tile.get_pointer(b"next")
        tiles[os.path.normpath(written)] = sorted(numbers)
    return tiles


def _view_layers(scene: Any) -> list[tuple[str, bool]]:
    layers = []
    try:
        layer = scene.get_pointer((b"view_layers", b"first"))
    except KeyError:  # saved before Blender 2.80: render layers, not view layers
        return layers
    while layer is not None:
        flag = int(layer.get(b"flag"))
        layers.append((_text(layer.get(b"name")), bool(flag & _VIEW_LAYER_RENDER)))
        layer = layer.get_pointer(b"next")
    return layers


def _get(block: Any, path: tuple[bytes, ...], default: Any = 0) -> Any:
    """A field of a data block, or ``default`` when this file's Blender had no such field."""
    try:
        return block.get(path)
    except KeyError:
        return default


def _id_name(block: Any) -> str:
    """A datablock's name without its two-letter code (``OBCamera`` -> ``Camera``)."""
    return _text(block.id_name)[2:]


def _version(bf: Any) -> str:
    """The Blender version that saved the file, e.g. ``4.2``, or ``""``."""
    version = getattr(bf.header, "version", 0)
    return f"{version // 100}.{version % 100}" if version else ""


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    return str(value)
