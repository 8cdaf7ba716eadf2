"""Stand-in for ``maya.cmds``: the commands Cloudburst uses, answered from ``maya.SCENE``.

Flags follow Maya's (long and short names); an unknown flag raises ``TypeError`` and a
missing node or attribute raises ``ValueError``, as Maya raises for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import maya

#: Values of attributes Maya does not write when they hold their default.
DEFAULTS: dict[tuple[str, str], Any] = {
    ("renderGlobals", "animation"): False,
    ("renderGlobals", "startFrame"): 1.0,
    ("renderGlobals", "endFrame"): 10.0,
    ("renderGlobals", "byFrameStep"): 1.0,
    ("renderGlobals", "currentRenderer"): "mayaSoftware",
    ("renderGlobals", "imageFilePrefix"): None,
    ("renderGlobals", "imfPluginKey"): "",
    ("renderGlobals", "imageFormat"): 7,
    ("resolution", "width"): 320,
    ("resolution", "height"): 240,
    ("camera", "renderable"): True,
    ("renderLayer", "renderable"): True,
    ("file", "uvTilingMode"): 0,
    ("file", "useFrameExtension"): False,
    ("file", "computedFileTextureNamePattern"): None,
    ("aiAOVDriver", "aiTranslator"): "exr",
}


def _flag(kwargs: dict[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        if name in kwargs:
            return kwargs.pop(name)
    return default


def _no_more(command: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(f"{command}: invalid flag(s) {', '.join(sorted(kwargs))}")


def _node(name: str) -> maya.Node:
    node = maya.SCENE.nodes.get(name.lstrip(":"))
    if node is None:
        raise ValueError(f"No object matches name: {name}")
    return node


def file(*args: str, **kwargs: Any) -> Any:
    scene = maya.SCENE
    query = _flag(kwargs, "query", "q", default=False)
    if _flag(kwargs, "save", "s", default=False):
        _no_more("file", kwargs)
        if not scene.path:
            raise RuntimeError("File has not been named: use file -rename first.")
        scene.modified = False
        scene.saves += 1
        return scene.path
    if not query:
        raise TypeError("file: only -query and -save are supported by the stand-in")
    if _flag(kwargs, "sceneName", "sn", default=False):
        _no_more("file", kwargs)
        return scene.path
    if _flag(kwargs, "modified", "amf", default=False):
        _no_more("file", kwargs)
        return scene.modified
    if _flag(kwargs, "reference", "r", default=False):
        _no_more("file", kwargs)
        if not args:
            return [f"{ref.path}" for ref in scene.references]
        parent = _find_reference(args[0])
        return [child.path for child in parent.children]
    raise TypeError(f"file: unsupported query {sorted(kwargs)}")


def _all_references() -> list[maya.Reference]:
    found: list[maya.Reference] = []

    def visit(refs: list[maya.Reference]) -> None:
        for ref in refs:
            found.append(ref)
            visit(ref.children)

    visit(maya.SCENE.references)
    return found


def _find_reference(target: str) -> maya.Reference:
    for ref in _all_references():
        if target in (ref.path, ref.ref_node):
            return ref
    raise RuntimeError(f"{target} is not a reference file or reference node")


def referenceQuery(target: str, **kwargs: Any) -> Any:  # noqa: N802 - Maya's name
    if _flag(kwargs, "isNodeReferenced", "inr", default=False):
        _no_more("referenceQuery", kwargs)
        return _node(target).referenced
    ref = _find_reference(target)
    if _flag(kwargs, "referenceNode", "rfn", default=False):
        _no_more("referenceQuery", kwargs)
        return ref.ref_node
    if _flag(kwargs, "isLoaded", "il", default=False):
        _no_more("referenceQuery", kwargs)
        return ref.loaded
    if _flag(kwargs, "filename", "f", default=False):
        unresolved = _flag(kwargs, "unresolvedName", "un", default=False)
        _flag(kwargs, "withoutCopyNumber", "wcn")
        _no_more("referenceQuery", kwargs)
        return ref.written if unresolved else ref.path
    raise TypeError(f"referenceQuery: unsupported flags {sorted(kwargs)}")


def objExists(name: str) -> bool:  # noqa: N802 - Maya's name
    return name.split(".", 1)[0].lstrip(":") in maya.SCENE.nodes


def getAttr(plug: str, **kwargs: Any) -> Any:  # noqa: N802 - Maya's name
    _no_more("getAttr", kwargs)
    name, _, attr = plug.partition(".")
    node = _node(name)
    if attr in node.attrs:
        return node.attrs[attr]
    key = (node.type, attr)
    if key in DEFAULTS:
        return DEFAULTS[key]
    raise ValueError(f"No object matches name: {plug}")


def ls(*args: str, **kwargs: Any) -> list[str]:
    node_type = _flag(kwargs, "type", "typ")
    _no_more("ls", kwargs)
    return [n.name for n in maya.SCENE.nodes.values() if node_type is None or n.type == node_type]


def listRelatives(name: str, **kwargs: Any) -> list[str] | None:  # noqa: N802 - Maya's name
    parent = _flag(kwargs, "parent", "p", default=False)
    _no_more("listRelatives", kwargs)
    if not parent:
        raise TypeError("listRelatives: only -parent is supported by the stand-in")
    node = _node(name)
    return [node.parent] if node.parent else None


def currentUnit(**kwargs: Any) -> str:  # noqa: N802 - Maya's name
    _flag(kwargs, "query", "q")
    if not _flag(kwargs, "time", "t", default=False):
        raise TypeError("currentUnit: only -query -time is supported by the stand-in")
    _no_more("currentUnit", kwargs)
    return maya.SCENE.time_unit


def playbackOptions(**kwargs: Any) -> float:  # noqa: N802 - Maya's name
    _flag(kwargs, "query", "q")
    low = _flag(kwargs, "minTime", "min", default=False)
    high = _flag(kwargs, "maxTime", "max", default=False)
    _no_more("playbackOptions", kwargs)
    if low == high:
        raise TypeError("playbackOptions: query one of -minTime or -maxTime")
    return maya.SCENE.playback[0] if low else maya.SCENE.playback[1]


def workspace(**kwargs: Any) -> str:
    _flag(kwargs, "query", "q")
    if _flag(kwargs, "rootDirectory", "rd", default=False):
        _no_more("workspace", kwargs)
        return maya.SCENE.workspace
    rule = _flag(kwargs, "fileRuleEntry", "fre")
    _no_more("workspace", kwargs)
    if rule is None:
        raise TypeError("workspace: query -rootDirectory or -fileRuleEntry")
    return maya.SCENE.file_rules.get(rule, "")


def about(**kwargs: Any) -> bool:
    if not _flag(kwargs, "batch", "b", default=False):
        raise TypeError("about: only -batch is supported by the stand-in")
    _no_more("about", kwargs)
    return maya.SCENE.batch


def menu(name: str = "", **kwargs: Any) -> Any:
    if _flag(kwargs, "exists", "ex", default=False):
        _no_more("menu", kwargs)
        return name in maya.SCENE.ui
    label = _flag(kwargs, "label", "l", default=name)
    parent = _flag(kwargs, "parent", "p", default="")
    _flag(kwargs, "tearOff", "to")
    _no_more("menu", kwargs)
    maya.SCENE.ui[name] = {"kind": "menu", "label": label, "parent": parent}
    return name


def menuItem(name: str = "", **kwargs: Any) -> str:  # noqa: N802 - Maya's name
    label = _flag(kwargs, "label", "l", default="")
    command: Callable[..., Any] | None = _flag(kwargs, "command", "c")
    parent = _flag(kwargs, "parent", "p", default="")
    _no_more("menuItem", kwargs)
    if parent not in maya.SCENE.ui:
        raise RuntimeError(f"menuItem: no menu {parent!r}")
    name = name or f"menuItem{len(maya.SCENE.ui)}"
    maya.SCENE.ui[name] = {"kind": "menuItem", "label": label, "parent": parent, "command": command}
    return name


def deleteUI(name: str, **kwargs: Any) -> None:  # noqa: N802 - Maya's name
    _flag(kwargs, "menu", "m")
    _no_more("deleteUI", kwargs)
    doomed = {name} | {k for k, v in maya.SCENE.ui.items() if v.get("parent") == name}
    for key in doomed:
        maya.SCENE.ui.pop(key, None)


def evalDeferred(command: Callable[[], Any], **kwargs: Any) -> None:  # noqa: N802
    """Runs ``command`` at once: the stand-in has no event loop to wait for."""
    _flag(kwargs, "lowestPriority", "low")
    _no_more("evalDeferred", kwargs)
    command()


def warning(message: str) -> None:
    maya.SCENE.warnings.append(message)
