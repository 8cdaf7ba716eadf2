"""Stand-in for Houdini's ``hou`` module, backed by a scene held in memory.

``load_hip(path)`` opens a real ``.hip`` file (read with Cloudburst's offline reader, whose
evaluator plays Houdini's: ``$HIP``, ``$OS``, ``chs()``, channels); ``new_scene()`` starts
an empty one that a test fills with ``add_node()``. Only what Cloudburst's plug-in calls is
here; anything else is an ``AttributeError``, as a typo would be in Houdini.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common.houdini_rops import ROP_TYPES, output_parm
from common.scene_readers.houdini_expr import HoudiniContext, Unresolved
from common.scene_readers.houdini_hip import HipNode, HipScene
from common.scene_readers.houdini_hip import load_hip as _read_hip
from common.scene_readers.houdini_report import INPUT_PARMS, is_driver
from common.scene_readers.sequences import frame_path


class OperationFailed(Exception):
    """What ``hou`` raises when an expression or an operation fails."""


class severityType:  # noqa: N801 - Houdini's name
    Message = "message"
    Warning = "warning"
    Error = "error"


@dataclass
class _State:
    scene: HipScene
    hip_path: str
    env: Mapping[str, str]
    new_file: bool = True
    dirty: bool = False
    saves: int = 0
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def context(self) -> HoudiniContext:
        return HoudiniContext(self.scene, self.hip_path, self.env)


STATE = _State(HipScene(path=""), os.path.join(os.getcwd(), "untitled.hip"), {})


def new_scene(hip_path: str = "", env: Mapping[str, str] | None = None, **fields: Any) -> _State:
    """An empty scene (``/obj``, ``/out``); ``hip_path`` set means it was saved there."""
    global STATE
    scene = HipScene(path=hip_path, **fields)
    for manager in ("obj", "out", "img", "mat"):
        scene.nodes[f"/{manager}"] = HipNode(f"/{manager}", manager)
    STATE = _State(scene, hip_path or os.path.join(os.getcwd(), "untitled.hip"), env or {})
    STATE.new_file = not hip_path
    return STATE


def add_node(path: str, node_type: str, bypass: bool = False, **parms: Any) -> HipNode:
    """Adds a node; parameter values are strings, or tuples of strings for several components."""
    values = {
        k: [str(x) for x in v] if isinstance(v, tuple) else [str(v)] for k, v in parms.items()
    }
    node = HipNode(path, node_type, parms=values, bypass=bypass)
    STATE.scene.nodes[path] = node
    return node


def load_hip(path: str, env: Mapping[str, str] | None = None) -> _State:
    """Opens a real hip file, as ``hou.hipFile.load()`` would (in the process's environment
    when ``env`` is None)."""
    global STATE
    path = os.path.abspath(path)
    STATE = _State(_read_hip(path), path, os.environ if env is None else env, new_file=False)
    return STATE


# --- nodes and parameters ------------------------------------------------------------------


class NodeTypeCategory:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


class NodeType:
    def __init__(self, name: str, category: str) -> None:
        self._name, self._category = name, category

    def name(self) -> str:
        return self._name

    def category(self) -> NodeTypeCategory:
        return NodeTypeCategory(self._category)


_CHILD_CATEGORIES = {"topnet": "Top", "dopnet": "Dop", "cop2net": "Cop2", "img": "Cop2",
                     "matnet": "Vop", "vopmaterial": "Vop", "materialbuilder": "Vop",
                     "lopnet": "Lop", "mat": "Vop", "shop": "Shop", "obj": "Object",
                     "out": "Driver", "tasks": "TopNet", "stage": "Lop"}  # fmt: skip


def _category(hip: HipNode) -> str:
    if hip.parent_path == "/":
        return "Manager"
    if is_driver(STATE.scene, hip):
        return "Driver"
    parent = STATE.scene.node(hip.parent_path)
    if parent is None:
        return "Sop"
    if parent.base_type == "subnet" and parent.parent_path != "/":
        return _category(parent)
    return _CHILD_CATEGORIES.get(parent.base_type, "Sop")


def _component(hip: HipNode, name: str) -> tuple[str, int] | None:
    values = hip.parms.get(name)
    if values is not None:
        return (name, 0) if len(values) == 1 else None
    match = re.fullmatch(r"(\w+?)([1-9]|[xyzw])", name)
    if match and match.group(1) in hip.parms:
        suffix = match.group(2)
        index = int(suffix) - 1 if suffix.isdigit() else "xyzw".index(suffix)
        if index < len(hip.parms[match.group(1)]):
            return match.group(1), index
    return None


class Parm:
    def __init__(self, node: Node, name: str, tuple_name: str, index: int) -> None:
        self._node, self._name, self._tuple, self._index = node, name, tuple_name, index

    def name(self) -> str:
        return self._name

    def node(self) -> Node:
        return self._node

    def unexpandedString(self) -> str:  # noqa: N802 - Houdini's name
        if self._name in self._node._hip.channels:
            raise OperationFailed("Parameter is an expression or has keyframes.")
        return self._node._hip.value(self._tuple, self._index) or ""

    def evalAtFrame(self, frame: float) -> str:  # noqa: N802 - Houdini's name
        try:
            value = STATE.context.parm(self._node._hip, self._name)
        except Unresolved as exc:
            raise OperationFailed(f"The attempted operation failed.\nError: {exc}") from None
        return frame_path(value, round(frame)) if "$F" in value else value

    def evalAsString(self) -> str:  # noqa: N802 - Houdini's name
        return self.evalAtFrame(frame())

    def deleteAllKeyframes(self) -> None:  # noqa: N802 - Houdini's name
        self._node._hip.channels.pop(self._name, None)

    def set(self, value: Any) -> None:
        self._node._hip.parms[self._tuple][self._index] = str(value)
        STATE.dirty = True

    def eval(self) -> Any:
        text = self.evalAsString()
        try:
            return float(text)
        except ValueError:
            return text


class ParmTuple:
    def __init__(self, node: Node, name: str) -> None:
        self._node, self._name = node, name

    def eval(self) -> tuple[Any, ...]:
        count = len(self._node._hip.parms[self._name])
        names = [f"{self._name}{i + 1}" for i in range(count)]
        if not all(_component(self._node._hip, n) for n in names):
            names = [f"{self._name}{'xyzw'[i]}" for i in range(count)]
        return tuple(Parm(self._node, n, self._name, i).eval() for i, n in enumerate(names))


class Node:
    def __init__(self, hip: HipNode) -> None:
        self._hip = hip

    def path(self) -> str:
        return self._hip.path

    def name(self) -> str:
        return self._hip.name

    def type(self) -> NodeType:
        return NodeType(self._hip.type, _category(self._hip))

    def parent(self) -> Node | None:
        return node(self._hip.parent_path) if self._hip.path != "/" else None

    def isBypassed(self) -> bool:  # noqa: N802 - Houdini's name
        return self._hip.bypass

    def parm(self, name: str) -> Parm | None:
        found = _component(self._hip, name)
        return Parm(self, name, found[0], found[1]) if found else None

    def parmTuple(self, name: str) -> ParmTuple | None:  # noqa: N802 - Houdini's name
        return ParmTuple(self, name) if name in self._hip.parms else None

    def render(self, frame_range: tuple[float, ...] = (), **_options: Any) -> None:
        """Stands in for the renderer: per frame, prints the lines of the log named by
        ``$HOU_STUB_RENDER_LOG`` (``{frame}``, ``{image}``, ``{rop}``, ``{parms[NAME]}`` for the
        node's parameter NAME as it is at render time, empty when it has none) and writes the output
        file where the log says ``@write``."""
        log_path = os.environ.get("HOU_STUB_RENDER_LOG", "")
        lines = open(log_path).read().splitlines() if log_path else ["@write"]  # noqa: SIM115
        name = output_parm(self._hip.base_type, self._hip.value("soho_outputmode") or "")
        parm = self.parm(name)
        first, last = round(frame_range[0]), round(frame_range[1])
        for frame in range(first, last + 1):
            image = parm.evalAtFrame(frame) if parm is not None else ""
            for line in lines:
                if line.startswith("#"):
                    continue
                if line == "@write":
                    os.makedirs(os.path.dirname(image), exist_ok=True)
                    with open(image, "wb") as handle:
                        handle.write(b"stand-in render")
                elif line == "@fail":
                    raise OperationFailed(f"The attempted operation failed.\nError: {image}")
                else:
                    parms = defaultdict(str, {n: self._hip.value(n) for n in self._hip.parms})
                    print(
                        line.format(frame=frame, image=image, rop=self.path(), parms=parms),
                        flush=True,
                    )

    def allSubChildren(self) -> tuple[Node, ...]:  # noqa: N802 - Houdini's name
        prefix = "/" if self._hip.path == "/" else self._hip.path + "/"
        return tuple(Node(n) for p, n in STATE.scene.nodes.items() if p.startswith(prefix))


def node(path: str) -> Node | None:
    if path == "/":
        return Node(HipNode("/", "root"))
    found = STATE.scene.node(path)
    return Node(found) if found is not None else None


def _file_parms(hip: HipNode) -> list[str]:
    """The parameters Houdini's templates mark as files, as far as this stand-in knows."""
    names = [spec.parm for spec in INPUT_PARMS.get(hip.base_type, ())]
    rop = ROP_TYPES.get(hip.base_type)
    if rop is not None:
        names += [rop.output_parm, "soho_diskfile"]
    names += [p for p in hip.parms if p.endswith("_texture")]
    names += sorted(hip.spare_file_parms)
    return [n for n in names if n in hip.parms]


def fileReferences(**_kwargs: Any) -> tuple[tuple[Parm | None, str], ...]:  # noqa: N802
    found = []
    for hip in STATE.scene.nodes.values():
        wrapper = Node(hip)
        for name in _file_parms(hip):
            raw = hip.value(name) or ""
            if raw:
                found.append((Parm(wrapper, name, name, 0), raw))
    return tuple(found)


# --- the session -----------------------------------------------------------------------------


class hipFile:  # noqa: N801 - Houdini's name
    @staticmethod
    def load(
        path: str, suppress_save_prompt: bool = False, ignore_load_warnings: bool = False
    ) -> None:
        load_hip(path)

    @staticmethod
    def path() -> str:
        return STATE.hip_path

    @staticmethod
    def isNewFile() -> bool:  # noqa: N802 - Houdini's name
        return STATE.new_file

    @staticmethod
    def hasUnsavedChanges() -> bool:  # noqa: N802 - Houdini's name
        return STATE.dirty

    @staticmethod
    def save() -> None:
        STATE.dirty = False
        STATE.new_file = False
        STATE.saves += 1


class playbar:  # noqa: N801 - Houdini's name
    @staticmethod
    def frameRange() -> tuple[float, float]:  # noqa: N802 - Houdini's name
        start, end = STATE.scene.frame_range
        return float(start), float(end)


def fps() -> float:
    return STATE.scene.fps


def frame() -> float:
    return float(STATE.scene.current_frame)


class text:  # noqa: N801 - Houdini's name
    @staticmethod
    def expandString(value: str) -> str:  # noqa: N802 - Houdini's name
        root = HipNode("/", "root")
        try:
            expanded = STATE.context.expand(value, root)
        except Unresolved as exc:
            raise OperationFailed(str(exc)) from None
        return frame_path(expanded, STATE.scene.current_frame) if "$F" in expanded else expanded


class qt:  # noqa: N801 - Houdini's name
    @staticmethod
    def mainWindow() -> None:  # noqa: N802 - Houdini's name
        return None


class ui:  # noqa: N801 - Houdini's name
    @staticmethod
    def displayMessage(message: str, severity: str = severityType.Message, **_: Any) -> int:  # noqa: N802
        STATE.messages.append((severity, message))
        return 0
