"""Stand-in for Maya's ``maya`` package, backed by a small in-memory scene.

Only the calls Cloudburst's plug-in makes are here (``maya.cmds``); a call or a flag it does
not know raises, as Maya would for a typo. A test loads a scene with ``load_ma()`` (a real
``.ma`` file, references followed as Maya follows them) or builds one with ``new_scene()`` and
``Scene.add_node()``; ``SCENE`` is what ``maya.cmds`` answers from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common.scene_readers import maya_nodes
from common.scene_readers.maya_ascii import MayaAscii, expand_variables, find_workspace
from common.scene_readers.maya_report import load_maya_ascii

#: Real node types of the shared nodes a ``.ma`` file selects by name.
SHARED_NODE_TYPES = {
    "defaultRenderGlobals": "renderGlobals",
    "defaultResolution": "resolution",
    "defaultArnoldDriver": "aiAOVDriver",
    "time1": "time",
}
#: Long names of the short attribute names ``.ma`` files use, by node type ("" for any type).
LONG_NAMES: dict[tuple[str, str], str] = {
    ("", "an"): "animation", ("", "sf"): "startFrame", ("", "ef"): "endFrame",
    ("", "bfs"): "byFrameStep", ("", "ren"): "currentRenderer", ("", "ifp"): "imageFilePrefix",
    ("", "imfkey"): "imfPluginKey", ("", "outf"): "imageFormat", ("", "w"): "width",
    ("", "h"): "height", ("", "uvt"): "uvTilingMode", ("", "ufe"): "useFrameExtension",
    ("camera", "rnd"): "renderable", ("renderLayer", "rndr"): "renderable",
    ("aiAOVDriver", "ai_translator"): "aiTranslator", ("cacheFile", "cp"): "cachePath",
    ("cacheFile", "cn"): "cacheName",
}  # fmt: skip
for _spec in maya_nodes.FILE_ATTRIBUTES:
    LONG_NAMES[(_spec.node_type, _spec.short)] = _spec.long


@dataclass
class Node:
    name: str
    type: str
    parent: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)
    referenced: bool = False


@dataclass
class Reference:
    path: str
    """Where Maya found the file (``referenceQuery -filename``)."""
    written: str
    """The path as the scene writes it (``-unresolvedName``)."""
    ref_node: str
    namespace: str
    loaded: bool = True
    children: list[Reference] = field(default_factory=list)


@dataclass
class Scene:
    """The open scene as ``maya.cmds`` sees it."""

    path: str = ""
    modified: bool = False
    saves: int = 0
    time_unit: str = "film"
    playback: tuple[float, float] = (1.0, 120.0)
    workspace: str = ""
    file_rules: dict[str, str] = field(default_factory=lambda: {"images": "images"})
    batch: bool = False
    nodes: dict[str, Node] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)
    ui: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Menus and menu items the plug-in made, by name."""
    warnings: list[str] = field(default_factory=list)

    def add_node(
        self, node_type: str, name: str, parent: str = "", referenced: bool = False, **attrs: Any
    ) -> Node:
        node = Node(name, node_type, parent, dict(attrs), referenced)
        self.nodes[name] = node
        return node


SCENE = Scene()


def new_scene(**fields: Any) -> Scene:
    """Replaces the open scene with an empty one (with Maya's default nodes)."""
    global SCENE
    SCENE = Scene(**fields)
    SCENE.add_node("renderGlobals", "defaultRenderGlobals")
    SCENE.add_node("resolution", "defaultResolution")
    SCENE.add_node("renderLayer", "defaultRenderLayer")
    return SCENE


def _value(text: str) -> Any:
    if text in ("yes", "on", "true"):
        return True
    if text in ("no", "off", "false"):
        return False
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def _add_nodes(scene: Scene, parsed: MayaAscii, namespace: str) -> None:
    for node in parsed.nodes.values():
        if namespace and node.shared:  # startup nodes (persp, top...) are not referenced in
            continue
        node_type = SHARED_NODE_TYPES.get(node.name, node.type)
        name = node.name if node.name in SHARED_NODE_TYPES else f"{namespace}{node.name}"
        attrs = {}
        for short, values in node.attrs.items():
            long = LONG_NAMES.get((node_type, short)) or LONG_NAMES.get(("", short), short)
            attrs[long] = _value(values[-1])
        if name in scene.nodes and node.name in SHARED_NODE_TYPES:
            scene.nodes[name].attrs.update(attrs)
            continue
        parent = f"{namespace}{node.parent}" if node.parent else ""
        scene.add_node(node_type, name, parent, referenced=bool(namespace), **attrs)


def _references(
    scene: Scene, parsed: MayaAscii, namespace: str, env: Mapping[str, str], seen: set[str]
) -> list[Reference]:
    found = []
    for ref in (r for r in parsed.references if r.depth == 1):
        path = os.path.normpath(expand_variables(ref.path, env))
        if not os.path.isabs(path):
            path = os.path.join(find_workspace(parsed.path), path)
        if not os.path.exists(path):  # Maya looks beside the referencing scene
            beside = os.path.join(os.path.dirname(parsed.path), os.path.basename(path))
            path = beside if os.path.isfile(beside) else path
        child_ns = f"{namespace}{ref.namespace}:"
        reference = Reference(path, ref.path, f"{namespace}{ref.ref_node}", child_ns, ref.loaded)
        scene.add_node("reference", reference.ref_node, referenced=bool(namespace))
        if ref.loaded and path.endswith(".ma") and os.path.isfile(path) and path not in seen:
            child = load_maya_ascii(path)
            _add_nodes(scene, child, child_ns)
            reference.children = _references(scene, child, child_ns, env, seen | {path})
        found.append(reference)
    return found


def load_ma(path: str, env: Mapping[str, str] | None = None) -> Scene:
    """Opens a real ``.ma`` file in the stand-in scene, loading its references as Maya would.

    Args:
        path: the scene.
        env: the environment Maya would run in (for ``$MAYAFILEBASE`` and the like).
    """
    parsed = load_maya_ascii(os.path.abspath(path))
    scene = new_scene(path=parsed.path, time_unit=parsed.time_unit)
    scene.workspace = find_workspace(parsed.path)
    if parsed.playback is not None:
        scene.playback = parsed.playback
    _add_nodes(scene, parsed, "")
    scene.references = _references(scene, parsed, "", env or {}, {parsed.path})
    return scene
