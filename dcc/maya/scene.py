"""Maya's side of the plug-in: the only module that imports ``maya.cmds``.

Small facades over ``maya.cmds`` that return plain Python values; ``adapter.py`` turns them
into the panel's ``SceneInfo`` and ``Asset`` list. Everything here runs on Maya's main thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maya import cmds

from common.host import AssetKind
from common.scene_readers import maya_nodes

logger = logging.getLogger(__name__)

MENU_NAME = "CloudburstMenu"
MAIN_WINDOW = "MayaWindow"


@dataclass(frozen=True)
class FileUse:
    """A node attribute naming a file: the path pattern Maya computes for it."""

    node: str
    attribute: str
    kind: AssetKind
    pattern: str


@dataclass(frozen=True)
class ReferenceUse:
    """A reference at any depth: where Maya found it and how it was written."""

    path: str
    written: str
    ref_node: str
    loaded: bool


def scene_path() -> str:
    """The open scene's file, or ``""`` for a scene never saved."""
    return cmds.file(query=True, sceneName=True) or ""


def is_dirty() -> bool:
    return bool(cmds.file(query=True, modified=True))


def save() -> None:
    cmds.file(save=True)


def _get(plug: str, default: Any = None) -> Any:
    node = plug.split(".", 1)[0]
    if not cmds.objExists(node):
        return default
    value = cmds.getAttr(plug)
    return default if value is None else value


def workspace_root() -> str:
    """The project folder (``workspace -q -rd``)."""
    return cmds.workspace(query=True, rootDirectory=True) or os.path.dirname(scene_path())


def images_folder() -> str:
    """Where renders go: the project's ``images`` file rule, made absolute."""
    rule = cmds.workspace(fileRuleEntry="images") or "images"
    return os.path.normpath(os.path.join(workspace_root(), rule))


def frame_range() -> tuple[int, int, int, str]:
    """(start, end, step, where from): render settings when animation is on, else the time
    slider."""
    if _get("defaultRenderGlobals.animation", False):
        start = round(_get("defaultRenderGlobals.startFrame", 1.0))
        end = round(_get("defaultRenderGlobals.endFrame", 10.0))
        step = max(1, round(_get("defaultRenderGlobals.byFrameStep", 1.0)))
        return start, end, step, "render globals"
    start = round(cmds.playbackOptions(query=True, minTime=True))
    end = round(cmds.playbackOptions(query=True, maxTime=True))
    return start, end, 1, "time slider"


def fps() -> float:
    return maya_nodes.fps_of(cmds.currentUnit(query=True, time=True))


def renderer() -> str:
    return _get("defaultRenderGlobals.currentRenderer", maya_nodes.DEFAULT_RENDERER)


def resolution() -> tuple[int, int]:
    width, height = maya_nodes.DEFAULT_RESOLUTION
    return int(_get("defaultResolution.width", width)), int(
        _get("defaultResolution.height", height)
    )


def image_prefix() -> str:
    return _get("defaultRenderGlobals.imageFilePrefix", "") or ""


def image_extension(current_renderer: str) -> str:
    """The extension of the images the renderer writes."""
    if current_renderer == "arnold" and cmds.objExists("defaultArnoldDriver"):
        return _get("defaultArnoldDriver.aiTranslator", "exr") or "exr"
    key = _get("defaultRenderGlobals.imfPluginKey", "")
    if key:
        return str(key)
    number = int(_get("defaultRenderGlobals.imageFormat", 7))
    return maya_nodes.IMAGE_FORMATS.get(number, "iff")


def render_layers() -> list[tuple[str, bool]]:
    """The scene's own render layers (not those of references) and whether each renders."""
    layers = []
    for layer in cmds.ls(type=maya_nodes.RENDER_LAYER_TYPE) or []:
        if cmds.referenceQuery(layer, isNodeReferenced=True):
            continue
        layers.append((layer, bool(_get(f"{layer}.renderable", True))))
    return layers


def renderable_cameras() -> list[str]:
    """Cameras that render, by their transform's name."""
    cameras = []
    for shape in cmds.ls(type=maya_nodes.CAMERA_TYPE) or []:
        if _get(f"{shape}.renderable", True):
            parents = cmds.listRelatives(shape, parent=True) or [shape]
            cameras.append(parents[0])
    return cameras


def file_uses() -> list[FileUse]:
    """Every node attribute naming a file, at any reference depth (referenced nodes included)."""
    uses = []
    for spec in maya_nodes.FILE_ATTRIBUTES:
        for node in cmds.ls(type=spec.node_type) or []:
            path = _get(f"{node}.{spec.long}", "")
            if not path:
                continue
            pattern = path
            if spec.node_type == "file":
                pattern = maya_nodes.texture_pattern(
                    path,
                    uv_tiling_mode=int(_get(f"{node}.uvTilingMode", 0)),
                    use_frame_extension=bool(_get(f"{node}.useFrameExtension", False)),
                    pattern=_get(f"{node}.computedFileTextureNamePattern", "") or "",
                )
            uses.append(FileUse(node, spec.long, spec.kind, pattern))
    for node in cmds.ls(type="cacheFile") or []:
        folder, name = _get(f"{node}.cachePath", ""), _get(f"{node}.cacheName", "")
        if folder and name:
            path = os.path.join(folder, name + ".xml")
            uses.append(FileUse(node, "cachePath", AssetKind.CACHE, path))
    return uses


def references() -> list[ReferenceUse]:
    """Every reference, nested ones included, depth first."""
    found: list[ReferenceUse] = []

    def visit(files: list[str]) -> None:
        for ref_file in files:
            node = cmds.referenceQuery(ref_file, referenceNode=True)
            found.append(
                ReferenceUse(
                    path=cmds.referenceQuery(ref_file, filename=True, withoutCopyNumber=True),
                    written=cmds.referenceQuery(ref_file, filename=True, unresolvedName=True),
                    ref_node=node,
                    loaded=bool(cmds.referenceQuery(node, isLoaded=True)),
                )
            )
            visit(cmds.file(ref_file, query=True, reference=True) or [])

    visit(cmds.file(query=True, reference=True) or [])
    return found


def main_window() -> Any:
    """Maya's main window for the panel to stay above; None (the panel floats on top)."""
    return None


def add_menu(label: str, command: Callable[..., Any]) -> None:
    """Adds the Cloudburst menu with one item to Maya's main menu bar (not in batch mode).

    Deferred until Maya is idle: a plug-in loaded at start-up runs before the main window's
    menu bar is complete.
    """
    if cmds.about(batch=True):
        return

    def build() -> None:
        remove_menu()
        menu = cmds.menu(MENU_NAME, label="Cloudburst", parent=MAIN_WINDOW, tearOff=True)
        cmds.menuItem(label=label, command=command, parent=menu)

    cmds.evalDeferred(build, lowestPriority=True)


def remove_menu() -> None:
    if cmds.menu(MENU_NAME, exists=True):
        cmds.deleteUI(MENU_NAME, menu=True)


def show_error(message: str) -> None:
    """Tells the artist in Maya's status line and script editor."""
    cmds.warning(message)
