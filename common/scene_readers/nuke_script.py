"""Reads Nuke scripts (``.nk``) without Nuke: nodes, their knobs and how they are connected.

A ``.nk`` file is TCL: ``Root { ... }`` and one ``Class { knob value ... }`` command per node,
in the order Nuke wrote them, with a stack that wires them together: each node takes its
``inputs`` (1 unless written) off the stack and puts itself on it; ``set N1 [stack 0]`` names
the top, ``push $N1`` and ``push 0`` put a named node or nothing back; ``Group { ... }`` opens
a group whose nodes follow until ``end_group``.

Knob values are kept as the script holds them once its quoting is undone: ``"\\[value
root.name]/a.exr"`` becomes ``[value root.name]/a.exr``, a TCL expression that Nuke evaluates
when it reads the file (see ``nuke_tcl``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from common.errors import InvalidInput

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
#: Node classes that open a group of nodes ending at ``end_group``.
GROUP_CLASSES = frozenset({"Group", "LiveGroup"})


@dataclass(eq=False)
class NukeNode:
    """A node: its class, its knobs (as written) and its input nodes."""

    cls: str
    knobs: dict[str, str] = field(default_factory=dict)
    inputs: list[NukeNode | None] = field(default_factory=list)
    parent: NukeNode | None = None

    @property
    def name(self) -> str:
        return self.knobs.get("name", self.cls)

    @property
    def full_name(self) -> str:
        """``Group1.Read1`` for a node in a group, as ``nuke.toNode`` takes it."""
        if self.parent is None or self.parent.cls == "Root":
            return self.name
        return f"{self.parent.full_name}.{self.name}"

    def flag(self, knob: str, default: bool = False) -> bool:
        """A boolean knob (``true``/``false``/``1``/``0``)."""
        value = self.knobs.get(knob)
        if value is None:
            return default
        return value.strip().lower() in ("true", "1", "yes", "on")

    def integer(self, knob: str, default: int) -> int:
        """An integer knob, or ``default`` when it is not written or not a number."""
        try:
            return int(float(self.knobs[knob]))
        except (KeyError, ValueError):
            return default


@dataclass
class NukeScript:
    """A parsed script: its root, every node in file order, the Nuke version that wrote it."""

    path: str
    version: str = ""
    root: NukeNode = field(default_factory=lambda: NukeNode("Root"))
    nodes: list[NukeNode] = field(default_factory=list)

    def node(self, name: str, within: NukeNode | None = None) -> NukeNode | None:
        """The node called ``name`` (a full name, or a name inside the group ``within``)."""
        if name == "root":
            return self.root
        for node in self.nodes:
            if node.full_name == name:
                return node
        if within is not None and within.cls != "Root":
            return self.node(f"{within.full_name}.{name}")
        return None

    def of_class(self, *classes: str) -> list[NukeNode]:
        """The nodes of the given classes, in file order."""
        return [node for node in self.nodes if node.cls in classes]


def _words(text: str, pos: int, stop_at_newline: bool) -> tuple[list[str], int]:
    """TCL words from ``pos`` up to the end of the command (a newline) or of ``text``."""
    words: list[str] = []
    n = len(text)
    while pos < n:
        char = text[pos]
        if char == "\n" and stop_at_newline:
            return words, pos + 1
        if char.isspace():
            pos += 1
        elif char == "{":
            depth, start = 1, pos + 1
            pos += 1
            while pos < n and depth:
                if text[pos] == "\\":
                    pos += 1
                elif text[pos] == "{":
                    depth += 1
                elif text[pos] == "}":
                    depth -= 1
                pos += 1
            words.append(text[start : pos - 1])
        elif char == '"':
            pos += 1
            chunk = []
            while pos < n and text[pos] != '"':
                if text[pos] == "\\" and pos + 1 < n:
                    pos += 1
                    chunk.append(_ESCAPES.get(text[pos], text[pos]))
                else:
                    chunk.append(text[pos])
                pos += 1
            words.append("".join(chunk))
            pos += 1
        else:
            start = pos
            while pos < n and not text[pos].isspace():
                pos += 2 if text[pos] == "\\" else 1
            words.append(re.sub(r"\\(.)", r"\1", text[start:pos]))
    return words, pos


def _knobs(body: str) -> dict[str, str]:
    knobs: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        words, pos = _words(body, pos, stop_at_newline=True)
        if words and words[0] not in ("addUserKnob", "knobChanged"):
            knobs[words[0]] = " ".join(words[1:]) if len(words) != 2 else words[1]
    return knobs


def _input_count(node: NukeNode) -> int:
    written = node.knobs.get("inputs")
    if written is None:
        return 1
    return sum(int(part) for part in re.findall(r"\d+", written))


def parse_nuke_script(text: str, path: str = "") -> NukeScript:
    """Reads a Nuke script's text into nodes with their knobs and inputs.

    Raises:
        InvalidInput: the text is not a Nuke script.
    """
    script = NukeScript(path=path)
    stacks: list[list[NukeNode | None]] = [[]]
    groups: list[NukeNode] = []
    variables: dict[str, NukeNode | None] = {}
    pos = 0
    seen_node = False
    while pos < len(text):
        if text.startswith("#", pos):  # a comment line, such as the "#! nuke -nx" header
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
            continue
        words, pos = _words(text, pos, stop_at_newline=True)
        if not words:
            continue
        command, args = words[0], words[1:]
        stack = stacks[-1]
        if command == "version":
            script.version = " ".join(args)
        elif command == "set" and len(args) >= 2:
            variables[args[0]] = stack[-1] if stack else None
        elif command == "push" and args:
            stack.append(variables.get(args[0].lstrip("$")) if args[0] != "0" else None)
        elif command == "end_group" and groups:
            stacks.pop()
            stacks[-1].append(groups.pop())
        elif command == "Root" and args:
            script.root.knobs = _knobs(args[-1])
            seen_node = True
        elif command[:1].isupper() and args:
            node = NukeNode(command, _knobs(args[-1]), parent=groups[-1] if groups else None)
            count = _input_count(node)
            node.inputs = [stack.pop() if stack else None for _ in range(count)]
            script.nodes.append(node)
            seen_node = True
            if command in GROUP_CLASSES:
                groups.append(node)
                stacks.append([])
            else:
                stack.append(node)
    if not seen_node and path:
        raise InvalidInput(f"{path} holds no Nuke nodes; is it a Nuke script (.nk)?")
    return script
