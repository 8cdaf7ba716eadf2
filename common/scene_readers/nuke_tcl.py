"""Evaluates the TCL that Nuke scripts put in file knobs, for the cases studios write.

Nuke substitutes ``[command ...]`` and ``$env(NAME)`` in a file knob each time it reads it.
This evaluator covers what shows up in production scripts:

* ``[value root.name]``, ``[value name]``, ``[value Read1.file]``, ``[value this.knob]``,
  ``[knob ...]`` (a knob's value, itself evaluated), ``[topnode]`` (the top of the input
  chain), ``[getenv NAME]``, ``$env(NAME)``, ``[frame]`` (kept as ``%d``);
* ``file dirname|tail|rootname|extension|join|split|normalize|nativename``, Nuke's
  ``basename path ?suffix?`` and ``dirname``;
* lists: ``lrange``, ``lindex``, ``llength``, ``lreverse``, ``lreplace``, ``concat``,
  ``split``, ``join``; strings: ``string tolower|toupper|trim|range|length|map|first|last|
  index|replace``, ``regsub ?-all? exp string subSpec``, ``format``;
* ``[python nuke.script_directory()]`` and the ``os.path.dirname(nuke.root().name())`` idiom;
  any other ``[python ...]`` is named in the warning as Python, not evaluated offline.

Anything else raises ``Unresolved``: the caller keeps the path as written and says so, rather
than guess. ``root.name`` is the script's own path, as in Nuke (which sets it on opening).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from common.scene_readers.nuke_script import NukeNode, NukeScript


class Unresolved(Exception):
    """The expression needs Nuke itself (or names something this script lacks)."""


class PythonNotEvaluated(Unresolved):
    """The expression runs Python (``[python ...]``), which only Nuke evaluates."""

    def __init__(self, code: str) -> None:
        super().__init__(f"[python {code}] is Python, which is not evaluated without Nuke")
        self.code = code


@dataclass
class TclContext:
    """What evaluation may look at: the script, its path and the environment."""

    script: NukeScript
    script_path: str
    env: Mapping[str, str]
    _active: set[tuple[int, str]] = field(default_factory=set)

    def knob_value(self, node: NukeNode, knob: str) -> str:
        """The evaluated value of ``knob`` on ``node`` (``name`` and ``root.name`` included)."""
        if node is self.script.root and knob == "name":
            return self.script_path
        if knob == "name":
            return node.name
        if knob not in node.knobs:
            raise Unresolved(f"{node.full_name} has no knob {knob!r} in the script")
        key = (id(node), knob)
        if key in self._active:
            raise Unresolved(f"{node.full_name}.{knob} refers to itself")
        self._active.add(key)
        try:
            return evaluate(node.knobs[knob], self, node)
        finally:
            self._active.discard(key)


def evaluate(text: str, context: TclContext, node: NukeNode) -> str:
    """Substitutes the commands and variables of ``text`` in the context of ``node``.

    Raises:
        Unresolved: a command is not one this evaluator knows or cannot be answered offline.
    """
    out: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
        elif char == "[":
            end = _matching(text, pos)
            out.append(_command(text[pos + 1 : end], context, node))
            pos = end + 1
        elif text.startswith("$env(", pos):
            end = text.index(")", pos)
            name = text[pos + 5 : end]
            if name not in context.env:
                raise Unresolved(f"the environment variable {name} is not set")
            out.append(context.env[name])
            pos = end + 1
        else:
            out.append(char)
            pos += 1
    return "".join(out)


def _matching(text: str, start: int) -> int:
    depth = 0
    for pos in range(start, len(text)):
        if text[pos] == "\\":
            continue
        if text[pos] == "[":
            depth += 1
        elif text[pos] == "]":
            depth -= 1
            if depth == 0:
                return pos
    raise Unresolved(f"unbalanced brackets in {text!r}")


def split_list(text: str) -> list[str]:
    """A TCL list's elements (braces group, whitespace separates)."""
    items: list[str] = []
    for match in re.finditer(r"\{((?:[^{}]|\{[^{}]*\})*)\}|(\S+)", text):
        items.append(match.group(1) if match.group(1) is not None else match.group(2))
    return items


def join_list(items: list[str]) -> str:
    """A TCL list of ``items`` (elements with spaces braced)."""
    return " ".join(f"{{{item}}}" if not item or re.search(r"\s", item) else item for item in items)


def _words(command: str, context: TclContext, node: NukeNode) -> list[str]:
    words = []
    pos = 0
    while pos < len(command):
        if command[pos].isspace():
            pos += 1
        elif command[pos] == "{":
            depth, start = 0, pos
            while pos < len(command):
                depth += {"{": 1, "}": -1}.get(command[pos], 0)
                pos += 1
                if depth == 0:
                    break
            words.append(command[start + 1 : pos - 1])
        elif command[pos] == '"':
            end = command.index('"', pos + 1)
            words.append(evaluate(command[pos + 1 : end], context, node))
            pos = end + 1
        else:
            start, depth = pos, 0
            while pos < len(command) and (depth or not command[pos].isspace()):
                depth += {"[": 1, "]": -1}.get(command[pos], 0)
                pos += 1
            words.append(evaluate(command[start:pos], context, node))
    return words


def _node_ref(name: str, context: TclContext, node: NukeNode) -> NukeNode:
    if name in ("this", ""):
        return node
    if name == "root":
        return context.script.root
    if name == "parent":
        return node.parent or context.script.root
    match = re.fullmatch(r"input(\d*)", name)
    if match:
        index = int(match.group(1) or 0)
        found = node.inputs[index] if index < len(node.inputs) else None
        if found is None:
            raise Unresolved(f"{node.full_name} has no input {index} in the script")
        return found
    found_node = context.script.node(name, within=node.parent)
    if found_node is None:
        raise Unresolved(f"no node {name!r} in the script")
    return found_node


def _value(args: list[str], context: TclContext, node: NukeNode) -> str:
    if not args:
        raise Unresolved("[value] without a knob")
    target, _, knob = args[0].rpartition(".")
    try:
        return context.knob_value(_node_ref(target, context, node), knob)
    except Unresolved:
        if len(args) > 1:
            return args[1]
        raise


def _topnode(args: list[str], context: TclContext, node: NukeNode) -> str:
    current = _node_ref(args[0], context, node) if args else node
    while current.inputs and current.inputs[0] is not None:
        current = current.inputs[0]
    if current is node:
        raise Unresolved(f"{node.full_name} has no input in the script, so [topnode] needs Nuke")
    return current.full_name


def _file(args: list[str]) -> str:
    if len(args) < 2:
        raise Unresolved("[file] needs a subcommand and a path")
    sub, path = args[0], args[1]
    operations: dict[str, Callable[[], str]] = {
        "dirname": lambda: posixpath.dirname(path) or ".",
        "tail": lambda: posixpath.basename(path),
        "rootname": lambda: posixpath.splitext(path)[0],
        "extension": lambda: posixpath.splitext(path)[1],
        "join": lambda: posixpath.join(*args[1:]),
        "split": lambda: join_list(
            (["/"] if path.startswith("/") else []) + [p for p in path.split("/") if p]
        ),
        "normalize": lambda: posixpath.normpath(path),
        "nativename": lambda: path,
    }
    if sub not in operations:
        raise Unresolved(f"[file {sub}] is not supported offline")
    return operations[sub]()


def _index(token: str, size: int) -> int:
    if token.startswith("end"):
        return size - 1 - (int(token[4:]) if token.startswith("end-") else 0)
    return int(token)


def _string(args: list[str]) -> str:
    sub, value = args[0], args[1] if len(args) > 1 else ""
    if sub == "tolower":
        return value.lower()
    if sub == "toupper":
        return value.upper()
    if sub == "trim":
        return value.strip(args[2] if len(args) > 2 else None)
    if sub == "length":
        return str(len(value))
    if sub == "range":
        return value[_index(args[2], len(value)) : _index(args[3], len(value)) + 1]
    if sub in ("first", "last") and len(args) > 2:
        find = args[2].find if sub == "first" else args[2].rfind
        return str(find(args[1]))
    if sub == "index" and len(args) > 2:
        at = _index(args[2], len(value))
        return value[at] if 0 <= at < len(value) else ""
    if sub == "replace" and len(args) > 3:
        first, last = _index(args[2], len(value)), _index(args[3], len(value))
        return value[:first] + (args[4] if len(args) > 4 else "") + value[last + 1 :]
    if sub == "map" and len(args) > 2:
        mapping = split_list(args[1])
        result = args[2]
        for old, new in zip(mapping[::2], mapping[1::2], strict=False):
            result = result.replace(old, new)
        return result
    raise Unresolved(f"[string {sub}] is not supported offline")


def _python(args: list[str], context: TclContext) -> str:
    code = " ".join(args).strip().strip("{}").strip()
    script_dir = os.path.dirname(context.script_path)
    known = {
        "nuke.script_directory()": script_dir,
        "os.path.dirname(nuke.root().name())": script_dir,
        "nuke.root().name()": context.script_path,
        "nuke.scriptName()": context.script_path,
    }
    if code in known:
        return known[code]
    match = re.fullmatch(r"os\.(?:environ\[|getenv\(|environ\.get\()['\"](\w+)['\"][\])]", code)
    if match and match.group(1) in context.env:
        return context.env[match.group(1)]
    raise PythonNotEvaluated(code)


def _basename(args: list[str]) -> str:
    """Nuke's ``basename path ?suffix?``: the name without folders (and ``suffix``)."""
    if not args:
        raise Unresolved("[basename] without a path")
    name = posixpath.basename(args[0])
    if len(args) > 1 and args[1] and name.endswith(args[1]):
        name = name[: -len(args[1])]
    return name


def _regsub(args: list[str]) -> str:
    """``regsub ?-all? ?--? exp string subSpec`` (``&`` and ``\\N`` in ``subSpec``)."""
    count = 1
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "--":
            break
        if flag != "-all":
            raise Unresolved(f"[regsub {flag}] is not supported offline")
        count = 0
    if len(args) != 3:
        raise Unresolved("[regsub] into a variable is not supported offline")
    pattern, value, spec = args
    replacement = re.sub(r"\\(\d)|&", lambda m: f"\\g<{m.group(1) or 0}>", spec)
    try:
        return re.sub(pattern, replacement, value, count=count)
    except re.error as exc:
        raise Unresolved(f"[regsub] pattern {pattern!r}: {exc}") from None


_FORMAT = re.compile(r"%[-+ 0#]*\d*(?:\.\d+)?([sdiuxXoeEfgGc%])")


def _format(args: list[str]) -> str:
    """``format spec ?arg ...?`` for the ``%s``, ``%d``, ``%04d``, ``%f`` specs of paths."""
    if not args:
        raise Unresolved("[format] without a format")
    values = iter(args[1:])

    def replace(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind == "%":
            return "%"
        try:
            value = next(values)
            spec = match.group(0).replace("u", "d")
            if kind in "diuxXoc":
                return spec % int(value)
            if kind in "eEfgG":
                return spec % float(value)
            return spec % value
        except (StopIteration, ValueError):
            raise Unresolved(f"[format {args[0]}] has too few or wrong arguments") from None

    return _FORMAT.sub(replace, args[0])


def _list(name: str, args: list[str]) -> str:
    items = split_list(args[0]) if args else []
    if name == "llength":
        return str(len(items))
    if name == "lindex":
        return items[_index(args[1], len(items))] if len(args) > 1 else args[0]
    if name == "lreverse":
        return join_list(items[::-1])
    if name == "lreplace":
        first, last = _index(args[1], len(items)), _index(args[2], len(items))
        return join_list(items[:first] + args[3:] + items[last + 1 :])
    return join_list(items[_index(args[1], len(items)) : _index(args[2], len(items)) + 1])


def _command(command: str, context: TclContext, node: NukeNode) -> str:
    words = _words(command, context, node)
    if not words:
        return ""
    name, args = words[0], words[1:]
    if name in ("value", "knob"):
        return _value(args, context, node)
    if name == "topnode":
        return _topnode(args, context, node)
    if name == "getenv":
        if args and args[0] in context.env:
            return context.env[args[0]]
        if len(args) > 1:
            return args[1]
        raise Unresolved(f"the environment variable {args[0] if args else ''} is not set")
    if name == "frame":
        return "%d"
    if name == "file":
        return _file(args)
    if name in ("lrange", "lindex", "llength", "lreverse", "lreplace"):
        return _list(name, args)
    if name == "concat":
        return " ".join(item.strip() for item in args if item.strip())
    if name == "basename":
        return _basename(args)
    if name == "dirname":
        return posixpath.dirname(args[0]) if args else "."
    if name == "regsub":
        return _regsub(list(args))
    if name == "format":
        return _format(args)
    if name == "split":
        chars = args[1] if len(args) > 1 else " \t\n"
        return join_list(re.split("[" + re.escape(chars) + "]", args[0]) if args else [])
    if name == "join":
        return (args[1] if len(args) > 1 else " ").join(split_list(args[0]) if args else [])
    if name == "string" and args:
        return _string(args)
    if name == "python":
        return _python(args, context)
    raise Unresolved(f"[{name}] is not supported offline")
