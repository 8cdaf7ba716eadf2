"""Evaluates Houdini parameter strings offline: ``$HIP``, ``$OS``, backticks, channels.

What Houdini does when it reads a string parameter, for the parts scene files use in paths:

* variables: ``$HIP``, ``$HIPNAME``, ``$HIPFILE`` (where the file is now, as Houdini sets them
  on load), ``$OS`` (the node's name), ``$FSTART``/``$FEND``/``$FPS``, then the environment
  given, then the variables saved in the file (``$JOB``); ``$F``, ``$F4``, ``${F4}`` stay in
  the path as frame tokens; a variable set nowhere stays as written and is reported;
* backticks and channel expressions: string and number literals, ``+ - * /``,
  ``chs()``/``ch()``/``chsraw()`` (another parameter, evaluated on its own node),
  ``opname()``, ``opfullpath()``, ``oppwf()``, ``strcat()``, ``padzero(4, $F)`` (kept as
  ``$F4``). PDG attributes (``@wedgeindex``) and other functions raise ``Unresolved``.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from common.scene_readers.houdini_hip import HipNode, HipScene


class Unresolved(Exception):
    """The value needs Houdini (or PDG) to be computed."""


@dataclass(frozen=True)
class _Frame:
    """``$F`` inside an expression: stays a frame token in the result."""

    pad: int = 0

    def __str__(self) -> str:
        return f"$F{self.pad}" if self.pad else "$F"


_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_FRAME_NAME = re.compile(r"F\d?")
_KEPT = frozenset({"FF", "SF", "T"})
_TOKEN = re.compile(
    r'\s*(?:"((?:[^"\\]|\\.)*)"|(\d+(?:\.\d*)?)|\$\{?(\w+)\}?|(\w+)\s*\(|([-+*/(),])|(@\w+))'
)


@dataclass
class HoudiniContext:
    """A scene, where it is now and the environment, for evaluating its parameters."""

    scene: HipScene
    hip_path: str
    env: Mapping[str, str]
    unknown: set[str] = field(default_factory=set)
    _active: set[tuple[str, str]] = field(default_factory=set)

    def variable(self, name: str, node: HipNode | None) -> str | None:
        """The value of ``$name`` for ``node``; None for a variable set nowhere."""
        special = {
            "HIP": os.path.dirname(self.hip_path),
            "HIPFILE": self.hip_path,
            "HIPNAME": os.path.splitext(os.path.basename(self.hip_path))[0],
            "FSTART": str(self.scene.frame_range[0]),
            "FEND": str(self.scene.frame_range[1]),
            "FPS": f"{self.scene.fps:g}",
        }
        if name in special:
            return special[name]
        if node is not None and name in ("OS", "OPNAME"):
            return node.name
        if name in self.env:
            return self.env[name]
        return self.scene.variables.get(name)

    def expand(self, text: str, node: HipNode) -> str:
        """``text`` with backticks evaluated and variables replaced (frame tokens kept)."""
        parts = text.split("`")
        if len(parts) % 2 == 0:
            raise Unresolved(f"unbalanced backticks in {text!r}")
        for i in range(1, len(parts), 2):
            parts[i] = str(_Parser(self, node, parts[i]).expression())
        return self._variables("".join(parts), node)

    def _variables(self, text: str, node: HipNode) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if _FRAME_NAME.fullmatch(name) or name in _KEPT:
                return match.group(0)
            value = self.variable(name, node)
            if value is None:
                self.unknown.add(name)
                return match.group(0)
            return value

        return _VARIABLE.sub(replace, text)

    def parm(self, node: HipNode, name: str) -> str:
        """A parameter's evaluated string (its channel's expression when it has one).

        Raises:
            Unresolved: the parameter does not exist or its expression needs Houdini.
        """
        parm, index = _component(node, name)
        key = (node.path, name)
        if key in self._active:
            raise Unresolved(f"{node.path}/{name} refers to itself")
        self._active.add(key)
        try:
            channel = node.channels.get(name) or (node.channels.get(parm) if index == 0 else None)
            if channel:
                return str(_Parser(self, node, channel).expression())
            value = node.value(parm, index)
            if value is None:
                raise Unresolved(f"{node.path} has no parameter {name!r}")
            return self.expand(value, node)
        finally:
            self._active.discard(key)

    def node_at(self, node: HipNode, path: str) -> HipNode:
        """The node at ``path``, absolute or relative to ``node``."""
        full = posixpath.normpath(path if path.startswith("/") else posixpath.join(node.path, path))
        found = self.scene.node(full)
        if found is None:
            raise Unresolved(f"no node {full} in the scene")
        return found


def _component(node: HipNode, name: str) -> tuple[str, int]:
    if name in node.parms:
        return name, 0
    match = re.fullmatch(r"(\w+?)([1-9]|[xyzw])", name)
    if match and match.group(1) in node.parms:
        suffix = match.group(2)
        return match.group(1), int(suffix) - 1 if suffix.isdigit() else "xyzw".index(suffix)
    return name, 0


class _Parser:
    """A small recursive-descent evaluator of hscript expressions."""

    def __init__(self, context: HoudiniContext, node: HipNode, text: str) -> None:
        self.context, self.node = context, node
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise Unresolved(f"cannot read the expression {text!r}")
            string, number, variable, call, op, attribute = match.groups()
            if attribute:
                raise Unresolved(f"{attribute} is a PDG attribute, known only when PDG cooks")
            kind = next(k for k, v in zip("snvco", (string, number, variable, call, op),
                                          strict=True) if v is not None)  # fmt: skip
            value = string if string is not None else (number or variable or call or op)
            self.tokens.append((kind, re.sub(r"\\(.)", r"\1", value) if kind == "s" else value))
            pos = match.end()
        self.pos = 0

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self) -> object:
        value = self._term()
        while (token := self._peek()) and token[1] in "+-" and token[0] == "o":
            self.pos += 1
            right = self._term()
            if token[1] == "+" and not (_numeric(value) and _numeric(right)):
                value = f"{value}{right}"
            else:
                value = _number(value) + (_number(right) if token[1] == "+" else -_number(right))
        return value

    def _term(self) -> object:
        value = self._atom()
        while (token := self._peek()) and token[1] in "*/" and token[0] == "o":
            self.pos += 1
            right = _number(self._atom())
            value = _number(value) * right if token[1] == "*" else _number(value) / right
        return value

    def _atom(self) -> object:
        token = self._peek()
        if token is None:
            raise Unresolved("the expression ends too early")
        kind, value = token
        self.pos += 1
        if kind == "s":
            return self.context.expand(value, self.node)
        if kind == "n":
            return float(value) if "." in value else int(value)
        if kind == "v":
            if _FRAME_NAME.fullmatch(value):
                return _Frame(int(value[1:] or 0))
            found = self.context.variable(value, self.node)
            if found is None:
                raise Unresolved(f"${value} is not set")
            return found
        if kind == "c":
            return self._call(value)
        if value == "(":
            inner = self.expression()
            self.pos += 1
            return inner
        if value == "-":
            return -_number(self._atom())
        raise Unresolved(f"unexpected {value!r} in an expression")

    def _call(self, name: str) -> object:
        args: list[object] = []
        while (token := self._peek()) and token[1] != ")":
            if token[1] == ",":
                self.pos += 1
                continue
            args.append(self.expression())
        self.pos += 1
        text = [str(a) for a in args]
        if name in ("chs", "chsraw", "ch", "chf", "evalparm") and text:
            folder, _, parm = text[0].rpartition("/")
            target = self.context.node_at(self.node, folder) if folder else self.node
            value = self.context.parm(target, parm)
            return value if name in ("chs", "chsraw") else _number(value)
        if name == "opname":
            return self.context.node_at(self.node, text[0] if text else ".").name
        if name in ("opfullpath", "oppwf"):
            return self.context.node_at(self.node, text[0] if text else ".").path
        if name == "strcat":
            return "".join(text)
        if name == "padzero" and len(args) == 2:
            if isinstance(args[1], _Frame):
                return _Frame(int(_number(args[0])))
            return f"{int(_number(args[1])):0{int(_number(args[0]))}d}"
        raise Unresolved(f"{name}() needs Houdini")


def _numeric(value: object) -> bool:
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d*)?", value.strip()) is not None


def _number(value: object) -> float:
    if isinstance(value, _Frame):
        raise Unresolved("arithmetic on the frame number needs Houdini")
    try:
        return float(str(value))
    except ValueError:
        raise Unresolved(f"{value!r} is not a number") from None
