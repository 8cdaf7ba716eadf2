"""Stand-in for Nuke's ``nuke`` module, backed by a script held in memory.

``load_nk(path)`` opens a real ``.nk`` file (parsed by Cloudburst's offline reader; TCL in
knobs is evaluated by its evaluator, in place of Nuke's); ``new_script()`` starts an empty
one that a test fills with ``add_node()``. Only what Cloudburst's plug-in calls is here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from common.scene_readers.nuke_report import resolution_of, views_of
from common.scene_readers.nuke_script import NukeNode, NukeScript, parse_nuke_script
from common.scene_readers.nuke_tcl import TclContext, Unresolved, evaluate

REPLACE = 1
BOOLEAN_KNOBS = frozenset({"disable", "use_limit", "read_from_file", "proxy", "raw",
                           "selected", "lock_range"})  # fmt: skip
INTEGER_KNOBS = frozenset({"first", "last", "first_frame", "last_frame", "render_order"})
#: Knobs every node has in Nuke even when the script does not write them.
DEFAULT_KNOBS: dict[str, Any] = {"disable": False, "before": "hold", "after": "hold",
                                 "frame_mode": "", "frame": "", "use_limit": False,
                                 "views": "", "file_type": "", "render_order": 1,
                                 "read_from_file": False}  # fmt: skip
ROOT_DEFAULTS: dict[str, Any] = {"first_frame": 1, "last_frame": 100, "fps": 24.0,
                                 "proxy": False, "project_directory": ""}  # fmt: skip


@dataclass
class _State:
    script: NukeScript
    env: Mapping[str, str]
    modified: bool = False
    saves: int = 0
    menus: dict[str, dict[str, Callable[..., Any]]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    plugin_path: list[str] = field(default_factory=list)

    @property
    def context(self) -> TclContext:
        return TclContext(self.script, self.script.path, self.env)


STATE = _State(NukeScript(path=""), {})


def new_script(path: str = "", env: Mapping[str, str] | None = None, **root_knobs: Any) -> _State:
    """An empty script; ``path`` set means it was saved there."""
    global STATE
    script = NukeScript(path=path)
    script.root.knobs = {k: str(v) for k, v in root_knobs.items()}
    STATE = _State(script, env or {})
    return STATE


def add_node(node_class: str, **knobs: Any) -> Node:
    """Adds a node with the given knobs (values as a script writes them)."""
    node = NukeNode(node_class, {k: str(v) for k, v in knobs.items()})
    STATE.script.nodes.append(node)
    return Node(node)


def load_nk(path: str, env: Mapping[str, str] | None = None) -> _State:
    """Opens a real script, as ``nuke.scriptOpen()`` would (``root.name`` is its path)."""
    global STATE
    path = os.path.abspath(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        script = parse_nuke_script(handle.read(), path)
    STATE = _State(script, env or {})
    return STATE


class Format:
    def __init__(self, width: int, height: int) -> None:
        self._width, self._height = width, height

    def width(self) -> int:
        return self._width

    def height(self) -> int:
        return self._height


class Knob:
    def __init__(self, node: NukeNode, name: str, default: Any = None) -> None:
        self._node, self._name, self._default = node, name, default

    def name(self) -> str:
        return self._name

    def value(self) -> Any:
        raw = self._node.knobs.get(self._name)
        if raw is None:
            return self._default
        if self._name in BOOLEAN_KNOBS:
            return raw.strip().lower() in ("true", "1")
        if self._name in INTEGER_KNOBS:
            return int(float(raw))
        if self._name == "fps":
            return float(raw)
        return raw

    getValue = value  # noqa: N815 - Nuke's name

    def setValue(self, value: Any) -> None:  # noqa: N802 - Nuke's name
        self._node.knobs[self._name] = str(value)
        STATE.modified = True

    def evaluate(self) -> str:
        if self._node is STATE.script.root and self._name == "name":
            return STATE.script.path
        raw = self._node.knobs.get(self._name, "")
        try:
            return evaluate(raw, STATE.context, self._node)
        except Unresolved:
            return raw


class Node:
    def __init__(self, node: NukeNode) -> None:
        self._node = node

    def Class(self) -> str:  # noqa: N802 - Nuke's name
        return self._node.cls

    def name(self) -> str:
        if self._node is STATE.script.root:
            return STATE.script.path or "Root"
        return self._node.name

    def fullName(self) -> str:  # noqa: N802 - Nuke's name
        return self._node.full_name

    def knob(self, name: str) -> Knob | None:
        defaults = ROOT_DEFAULTS if self._node is STATE.script.root else DEFAULT_KNOBS
        if name in self._node.knobs or name in defaults:
            return Knob(self._node, name, defaults.get(name))
        return None

    def __getitem__(self, name: str) -> Knob:
        knob = self.knob(name)
        if knob is None:
            raise NameError(f"knob {name} does not exist")
        return knob

    def firstFrame(self) -> int:  # noqa: N802 - Nuke's name
        if "first" in self._node.knobs or self._node.cls == "Read":
            return self._node.integer("first", 1)
        return STATE.script.root.integer("first_frame", 1)

    def lastFrame(self) -> int:  # noqa: N802 - Nuke's name
        if "last" in self._node.knobs or self._node.cls == "Read":
            return self._node.integer("last", self.firstFrame())
        return STATE.script.root.integer("last_frame", 100)

    def input(self, index: int) -> Node | None:
        inputs = self._node.inputs
        found = inputs[index] if index < len(inputs) else None
        return Node(found) if found is not None else None

    # the root's own methods
    def modified(self) -> bool:
        return STATE.modified

    def proxy(self) -> bool:
        return self._node.flag("proxy")

    def format(self) -> Format:
        return Format(*resolution_of(self._node.knobs.get("format", "")))


def root() -> Node:
    return Node(STATE.script.root)


def allNodes(  # noqa: N802 - Nuke's name
    filter: str | None = None,
    group: Any = None,
    recurseGroups: bool = False,  # noqa: N803 - Nuke's name
) -> list[Node]:
    if group is not None:
        raise TypeError("allNodes: group= is not supported by the stand-in")
    return [
        Node(n)
        for n in STATE.script.nodes
        if (filter is None or n.cls == filter) and (recurseGroups or n.parent is None)
    ]


def toNode(name: str) -> Node | None:  # noqa: N802 - Nuke's name
    found = STATE.script.node(name)
    return Node(found) if found is not None else None


def views() -> list[str]:
    return views_of(STATE.script)


def filename(node: Node, type: int | None = None) -> str | None:
    if type is not None:
        raise TypeError("filename: REPLACE is not supported by the stand-in")
    inner = node._node
    knob = "proxy" if root().proxy() and inner.knobs.get("proxy") else "file"
    if knob not in inner.knobs:
        return None
    return Knob(inner, knob).evaluate()


def scriptSave(path: str = "") -> bool:  # noqa: N802 - Nuke's name
    if not (path or STATE.script.path):
        raise RuntimeError("The script has no name: use Save As.")
    STATE.modified = False
    STATE.saves += 1
    return True


def tcl(command: str, *args: str) -> str:
    words = " ".join([command, *args])
    try:
        return evaluate(f"[{words}]", STATE.context, STATE.script.root)
    except Unresolved as exc:
        raise RuntimeError(str(exc)) from None


class Menu:
    def __init__(self, name: str) -> None:
        self._name = name
        STATE.menus.setdefault(name, {})

    def addCommand(self, path: str, command: Callable[..., Any], *_: Any, **__: Any) -> None:  # noqa: N802
        STATE.menus[self._name][path] = command


def menu(name: str) -> Menu:
    return Menu(name)


def message(text: str) -> None:
    STATE.messages.append(text)


def tprint(*values: Any) -> None:
    STATE.messages.append(" ".join(str(v) for v in values))


def pluginAddPath(path: str, addToSysPath: bool = True) -> None:  # noqa: N802, N803
    STATE.plugin_path.insert(0, path)


def pluginPath() -> list[str]:  # noqa: N802 - Nuke's name
    return list(STATE.plugin_path)
