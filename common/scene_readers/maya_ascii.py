"""Reads Maya ASCII (``.ma``) files without Maya: references, textures, caches, render setup.

A ``.ma`` file is a MEL script of a few statement kinds, each ended by ``;``:

* ``file -rdi 2 -ns "cube" -rfn "sub:cubeRN" "$MAYAFILEBASE/ma/cube.ma";`` and
  ``file -r -ns "cube" -dr 1 -rfn "cubeRN" "..."`` declare references (``-rdi N``: the
  reference tree with its depth, ``-dr 1`` there: unloaded; ``-r``: a top-level reference);
* ``createNode file -n "file1";`` starts a node and ``select -ne :defaultRenderGlobals;``
  selects a shared one; the ``setAttr ".ftn" -type "string" "tex.<UDIM>.exr";`` lines after
  either set its attributes;
* ``currentUnit -t pal;``, ``requires "mtoa" "5.0";``, ``fileInfo ...``.

References are followed into the referenced ``.ma`` files, so nested references and the
textures of referenced assets are found at any depth. Paths resolve as Maya resolves them:
environment variables (``$MAYAFILEBASE``) are expanded; a relative path is relative to the
project (the folder holding ``workspace.mel`` above the scene, else the scene's folder); a
reference not found where it says is looked for by name beside the scene that references it,
as Maya's reference resolution does.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from common.errors import InvalidInput

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(;)|(//[^\n]*)|([^\s";]+)', re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


@dataclass
class MayaNode:
    """One node of the file: type, name, parent and the attributes set on it."""

    name: str
    type: str
    parent: str = ""
    attrs: dict[str, list[str]] = field(default_factory=dict)
    """Values of ``setAttr`` by attribute name (without the leading dot)."""
    shared: bool = False
    """Created with ``-s``: a node every scene has (``persp``), not brought in by references."""

    def string(self, *names: str) -> str | None:
        """The first of ``names`` set as a string attribute, else None."""
        for name in names:
            values = self.attrs.get(name)
            if values:
                return values[-1]
        return None

    def number(self, *names: str) -> float | None:
        """The first of ``names`` set to a number or boolean, else None."""
        value = self.string(*names)
        if value is None:
            return None
        if value in ("yes", "on", "true"):
            return 1.0
        if value in ("no", "off", "false"):
            return 0.0
        try:
            return float(value)
        except ValueError:
            return None


@dataclass(frozen=True)
class MayaReference:
    """A ``file -r`` / ``file -rdi`` statement."""

    path: str
    """The path as written (variables not expanded)."""
    namespace: str
    ref_node: str
    depth: int
    """1 for references of this file, 2 and more for theirs (from ``-rdi``)."""
    loaded: bool = True


@dataclass
class MayaAscii:
    """The statements of one ``.ma`` file that matter to a render farm."""

    path: str
    version: str = ""
    time_unit: str = "film"
    requires: dict[str, str] = field(default_factory=dict)
    file_info: dict[str, str] = field(default_factory=dict)
    references: list[MayaReference] = field(default_factory=list)
    nodes: dict[str, MayaNode] = field(default_factory=dict)
    playback: tuple[float, float] | None = None

    def of_type(self, *types: str) -> list[MayaNode]:
        """The nodes of the given types, in file order."""
        return [node for node in self.nodes.values() if node.type in types]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text, flags=re.DOTALL)


def statements(text: str) -> Iterator[list[tuple[str, bool]]]:
    """Splits MEL text into statements of ``(token, was_quoted)`` pairs; comments dropped."""
    current: list[tuple[str, bool]] = []
    for match in _TOKEN.finditer(text):
        quoted, end, comment, word = match.groups()
        if comment is not None:
            continue
        if end is not None:
            if current:
                yield current
            current = []
        elif quoted is not None:
            current.append((_unescape(quoted), True))
        else:
            current.append((word, False))
    if current:
        yield current


def _flags(tokens: list[tuple[str, bool]]) -> tuple[dict[str, str], list[str]]:
    """Flags (``-ns "x"`` -> ``{"ns": "x"}``) and positional arguments of a statement."""
    flags: dict[str, str] = {}
    args: list[str] = []
    i = 1
    while i < len(tokens):
        text, quoted = tokens[i]
        if not quoted and text.startswith("-") and not re.match(r"^-\d", text):
            has_value = i + 1 < len(tokens) and (
                tokens[i + 1][1] or not tokens[i + 1][0].startswith("-")
            )
            flags[text[1:]] = tokens[i + 1][0] if has_value else ""
            i += 2 if has_value else 1
        else:
            args.append(text)
            i += 1
    return flags, args


def parse_maya_ascii(text: str, path: str = "") -> MayaAscii:
    """Reads the statements of a ``.ma`` file's text.

    Raises:
        InvalidInput: the text is not Maya ASCII.
    """
    if not text.lstrip().startswith("//Maya ASCII"):
        raise InvalidInput(f"{path or 'The file'} is not a Maya ASCII file (.ma).")
    scene = MayaAscii(path=path)
    first = text.split("\n", 1)[0]
    version = re.match(r"//Maya ASCII (\S+) scene", first)
    scene.version = version.group(1) if version else ""
    current: MayaNode | None = None
    for tokens in statements(text):
        command = tokens[0][0]
        if command == "file":
            _on_file(scene, tokens)
        elif command == "createNode":
            flags, args = _flags(tokens)
            name = flags.get("n") or f"{args[0]}{len(scene.nodes) + 1}"
            current = MayaNode(
                name=name,
                type=args[0] if args else "",
                parent=flags.get("p", ""),
                shared="s" in flags,
            )
            scene.nodes[name] = current
        elif command == "select":
            flags, args = _flags(tokens)
            name = (args or [flags.get("ne", "")])[0].lstrip(":")
            current = scene.nodes.setdefault(name, MayaNode(name=name, type=name))
        elif command == "setAttr" and len(tokens) > 1:
            _on_set_attr(scene, current, tokens)
        elif command == "currentUnit":
            flags, _ = _flags(tokens)
            scene.time_unit = flags.get("t", flags.get("time", scene.time_unit))
        elif command == "requires" and len(tokens) >= 3:
            scene.requires[tokens[-2][0]] = tokens[-1][0]
        elif command == "fileInfo" and len(tokens) >= 3:
            scene.file_info[tokens[1][0]] = tokens[2][0]
    script = scene.nodes.get("sceneConfigurationScriptNode")
    if script is not None:
        scene.playback = _playback(script.string("b", "before") or "")
    return scene


def _on_file(scene: MayaAscii, tokens: list[tuple[str, bool]]) -> None:
    flags, args = _flags(tokens)
    if not args or not ("r" in flags or "rdi" in flags):
        return
    if "rdi" in flags:
        reference = MayaReference(
            path=args[-1],
            namespace=flags.get("ns", ""),
            ref_node=flags.get("rfn", ""),
            depth=int(flags["rdi"] or 1),
            loaded=flags.get("dr", "0") != "1",
        )
        scene.references.append(reference)
    elif not any(r.ref_node == flags.get("rfn") and r.depth == 1 for r in scene.references):
        # A file without reference-depth lines (older Maya): every -r reference is loaded.
        scene.references.append(
            MayaReference(args[-1], flags.get("ns", ""), flags.get("rfn", ""), depth=1)
        )


_SET_ATTR_FLAGS_WITH_VALUE = frozenset({"-type", "-s", "-l", "-k", "-cb", "-ch", "-size"})


def _on_set_attr(
    scene: MayaAscii, current: MayaNode | None, tokens: list[tuple[str, bool]]
) -> None:
    target = ""
    values: list[str] = []
    i = 1
    while i < len(tokens):
        text, quoted = tokens[i]
        if not quoted and text.startswith("-") and not re.match(r"^-[\d.]", text):
            i += 2 if text in _SET_ATTR_FLAGS_WITH_VALUE else 1
            continue
        if not target:
            target = text
        else:
            values.append(text)
        i += 1
    node = current
    if target and not target.startswith("."):
        name, _, rest = target.partition(".")
        node = scene.nodes.get(name.lstrip(":"))
        target = "." + rest
    if node is not None and values and target:
        node.attrs[target[1:]] = values


def _playback(script: str) -> tuple[float, float] | None:
    low = re.search(r"-min\s+(-?[\d.]+)", script)
    high = re.search(r"-max\s+(-?[\d.]+)", script)
    if low and high:
        return float(low.group(1)), float(high.group(1))
    return None


# --- paths ---------------------------------------------------------------------------------


def expand_variables(path: str, env: Mapping[str, str]) -> str:
    """Expands ``$VAR``, ``${VAR}`` and ``%VAR%`` from ``env``; unknown ones stay as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return env.get(name, match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)|%(\w+)%", replace, path)


def find_workspace(scene_path: str) -> str:
    """The project folder of a scene: the nearest folder above it holding ``workspace.mel``."""
    folder = os.path.dirname(os.path.abspath(scene_path))
    probe = folder
    while True:
        if os.path.isfile(os.path.join(probe, "workspace.mel")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return folder
        probe = parent
