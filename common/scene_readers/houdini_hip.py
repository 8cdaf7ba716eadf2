"""Reads Houdini scene files (``.hip``, ``.hipnc``, ``.hiplc``) without Houdini.

A ``.hip`` file is a cpio archive in the portable ASCII ("odc") format: a 76-byte header
(``070707``, then octal fields; the name and data sizes at bytes 59 and 65) before each
member's name and data, ending with ``TRAILER!!!``. Members are the node tree as files:

* ``.start`` (``fps 24``, ``tset 0 10`` the global time range in seconds, ``tcur 0``),
  ``.variables`` (``set -g HIP = '/path'``: the variables saved with the scene);
* per node ``obj/geo1/file1.init`` (``type = file``), ``.def`` (flags, ``bypass on``),
  ``.parm`` (one ``name [ flags ] ( value ... )`` line per parameter, ``[ f1 1 ]`` for a
  component driven by a channel), ``.chn`` (those channels' expressions) and
  ``.spareparmdef`` (definitions of spare parameters, ``type file`` among them).

Apprentice (``.hipnc``) and Indie (``.hiplc``) files hold the same members in another
framing: each member is ``HouNC\x1a`` (``HouLC\x1a`` for Indie), 28 hex digits, the member's
name, a NUL and its contents, up to the next member's frame. The hex digits carry no sizes
(they are the same for every member of a file), so a member ends where the next frame
starts: a frame is the signature, exactly 28 hex digits and a printable name ending in NUL,
which text contents do not hold. Older files that put a signature line before a cpio archive
are read too. A file in neither framing is refused with a clear message.
"""

from __future__ import annotations

import gzip
import logging
import re
from dataclasses import dataclass, field

from common.errors import InvalidInput
from common.scene_readers.houdini_libraries import HdaLibrary, recorded_libraries

logger = logging.getLogger(__name__)

MAGIC = b"070707"
HEADER_SIZE = 76
TRAILER = "TRAILER!!!"
SIGNATURES = (b"HouNC", b"HouLC")
#: The frame before each member of a ``.hipnc`` / ``.hiplc`` file; group 1 is its name.
_FRAME = re.compile(rb"Hou(?:NC|LC)\x1a[0-9A-Fa-f]{28}([\x20-\x7e]{1,1024})\x00")


def framed_members(data: bytes, name: str = "the file") -> dict[str, bytes]:
    """The members of an Apprentice or Indie file (``HouNC\x1a`` framing), by name.

    Raises:
        InvalidInput: the data does not start with a member's frame.
    """
    frames = list(_FRAME.finditer(data))
    if not frames or frames[0].start() != 0:
        raise InvalidInput(
            f"{name} is a Houdini {data[:5].decode('ascii', 'replace')} file whose members "
            "cannot be read here; open it in Houdini and submit from there (or save it as .hip)."
        )
    members: dict[str, bytes] = {}
    for frame, following in zip(frames, [*frames[1:], None], strict=True):
        member = frame.group(1).decode("ascii")
        if member == TRAILER:
            break
        members[member] = data[frame.end() : following.start() if following else len(data)]
    return members


def archive_members(data: bytes, name: str = "the file") -> dict[str, bytes]:
    """The members of a hip archive by name, in order.

    Raises:
        InvalidInput: the data is not a hip archive (or one of a framing not known here).
    """
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    start = 0
    if data.startswith(SIGNATURES):
        if _FRAME.match(data):
            return framed_members(data, name)
        start = data.find(MAGIC, 0, 64 * 1024)
        if start < 0:
            return framed_members(data, name)
    elif not data.startswith(MAGIC):
        raise InvalidInput(f"{name} is not a Houdini scene (.hip, .hipnc, .hiplc).")
    members: dict[str, bytes] = {}
    pos = start
    while pos < len(data):
        header = data[pos : pos + HEADER_SIZE]
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise InvalidInput(f"{name} is damaged: no archive header at byte {pos}.")
        try:
            name_size = int(header[59:65], 8)
            data_size = int(header[65:76], 8)
        except ValueError:
            raise InvalidInput(f"{name} is damaged: bad archive header at byte {pos}.") from None
        name_start = pos + HEADER_SIZE
        member = data[name_start : name_start + name_size].rstrip(b"\0").decode("utf-8", "replace")
        body_start = name_start + name_size
        if member == TRAILER:
            break
        members[member] = data[body_start : body_start + data_size]
        pos = body_start + data_size
    return members


@dataclass
class HipNode:
    """One node: its path, operator type, flags and parameter values as saved."""

    path: str
    type: str
    parms: dict[str, list[str]] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    """Expressions of animated or expression-driven components (``f1``, ``sopoutput``)."""
    spare_file_parms: set[str] = field(default_factory=set)
    bypass: bool = False

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent_path(self) -> str:
        return self.path.rsplit("/", 1)[0] or "/"

    @property
    def base_type(self) -> str:
        """The type without namespace and version: ``qLib::shot_ql::1`` -> ``shot_ql``."""
        parts = self.type.split("::")
        if len(parts) >= 2 and re.fullmatch(r"[\d.]+", parts[-1]):
            parts = parts[:-1]
        return parts[-1] if parts else self.type

    def value(self, parm: str, index: int = 0) -> str | None:
        """A component of a parameter as saved (None when the node has no such parameter)."""
        values = self.parms.get(parm)
        if values is None or index >= len(values):
            return None
        return values[index]


@dataclass
class HipScene:
    """A parsed hip file."""

    path: str
    variables: dict[str, str] = field(default_factory=dict)
    fps: float = 24.0
    time_range: tuple[float, float] = (0.0, 10.0)
    current_time: float = 0.0
    nodes: dict[str, HipNode] = field(default_factory=dict)
    libraries: list[HdaLibrary] = field(default_factory=list)
    """The HDA libraries the scene records (``.OPlibraries``, ``.OPfallbacks``)."""

    def frame_at(self, seconds: float) -> int:
        """The frame at a time in seconds (frame 1 is at time 0)."""
        return round(seconds * self.fps) + 1

    @property
    def frame_range(self) -> tuple[int, int]:
        """``$FSTART`` and ``$FEND``: the global animation range."""
        return self.frame_at(self.time_range[0]), round(self.time_range[1] * self.fps)

    @property
    def current_frame(self) -> int:
        return self.frame_at(self.current_time)

    def node(self, path: str) -> HipNode | None:
        return self.nodes.get(path)


_PARM_LINE = re.compile(r"^(\w+)\s*\[[^\]]*\]\s*\((.*)\)\s*$")
_VALUE_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\[)|(\])|((?:[^\s\[\]"\\]|\\.)+)')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_parm_values(text: str) -> dict[str, list[str]]:
    """The values of a ``.parm`` member, by parameter name (one string per component)."""
    parms: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _PARM_LINE.match(line)
        if match is None:
            continue
        values: list[str] = []
        in_group: list[str] | None = None
        for token in _VALUE_TOKEN.finditer(match.group(2)):
            quoted, opening, closing, bare = token.groups()
            if opening:
                in_group = []
            elif closing:
                if in_group is not None:
                    values.append(in_group[-1] if len(in_group) > 1 else "")
                in_group = None
            else:
                word = _unescape(quoted) if quoted is not None else _unescape(bare)
                (in_group if in_group is not None else values).append(word)
        parms[match.group(1)] = values
    return parms


def _block(text: str, start: int) -> tuple[str, int]:
    """The text inside the braces that open at or after ``start``, and the end position."""
    open_at = text.index("{", start)
    depth = 0
    for pos in range(open_at, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : pos], pos + 1
    return text[open_at + 1 :], len(text)


def parse_channels(text: str, current_time: float) -> dict[str, str]:
    """The expression of each channel of a ``.chn`` member at ``current_time``."""
    channels: dict[str, str] = {}
    for match in re.finditer(r"channel\s+(\w+)\s*\{", text):
        body, _ = _block(text, match.start())
        start = float(m.group(1)) if (m := re.search(r"\bstart = (\S+)", body)) else 0.0
        segments = []
        pos = 0
        while (found := body.find("segment", pos)) >= 0:
            segment, pos = _block(body, found)
            length = float(m.group(1)) if (m := re.search(r"length = (\S+)", segment)) else 0.0
            found_expr = re.search(r"expr = (.*?)\s*$", segment, re.DOTALL)
            segments.append((length, _unescape(found_expr.group(1)) if found_expr else ""))
        time = start
        chosen = segments[-1][1] if segments else ""
        for length, expression in segments:
            if current_time < time + length:
                chosen = expression
                break
            time += length
        if chosen:
            channels[match.group(1)] = chosen
    return channels


def _spare_file_parms(text: str) -> set[str]:
    names = set()
    for match in re.finditer(r"(?<!\w)parm\s*\{", text):
        body, _ = _block(text, match.start())
        while "{" in body:  # drop nested blocks: parm tags, menus, a multiparm's own parms
            body, count = re.subn(r"\{[^{}]*\}", "", body)
            if not count:
                break
        name = re.search(r'name\s+"([^"]+)"', body)
        kind = re.search(r"\btype\s+(\w+)", body)
        if name and kind and kind.group(1) in ("file", "image", "geometry"):
            names.add(name.group(1))
    return names


_NODE_MEMBERS = frozenset({"init", "def", "parm", "chn", "spareparmdef"})


def parse_hip(data: bytes, path: str = "") -> HipScene:
    """Reads a hip archive's scene settings, variables and nodes.

    Raises:
        InvalidInput: the data is not a hip archive.
    """
    members = archive_members(data, path or "the file")
    scene = HipScene(path=path)
    text = {name: body.decode("utf-8", "replace") for name, body in members.items()
            if not name.endswith((".data", ".bgeo", ".geo"))}  # fmt: skip
    start = text.get(".start", "")
    if m := re.search(r"^fps\s+(\S+)", start, re.MULTILINE):
        scene.fps = float(m.group(1))
    if m := re.search(r"^tset\s+(\S+)\s+(\S+)", start, re.MULTILINE):
        scene.time_range = (float(m.group(1)), float(m.group(2)))
    if m := re.search(r"^tcur\s+(\S+)", start, re.MULTILINE):
        scene.current_time = float(m.group(1))
    for m in re.finditer(r"""^set -g (\w+) = (?:'([^']*)'|"([^"]*)")""", text.get(".variables", ""),
                         re.MULTILINE):  # fmt: skip
        scene.variables[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    scene.libraries = recorded_libraries(text.get(".OPlibraries", ""), text.get(".OPfallbacks", ""))
    for name, body in text.items():
        base, dot, kind = name.rpartition(".")
        if not dot or not base or base.startswith(".") or kind not in _NODE_MEMBERS:
            continue
        node_path = "/" + base
        node = scene.nodes.get(node_path)
        if node is None:
            node = scene.nodes[node_path] = HipNode(node_path, base.rsplit("/", 1)[-1])
        if kind == "init":
            if m := re.search(r"^type = (\S+)", body, re.MULTILINE):
                node.type = m.group(1)
        elif kind == "def":
            node.bypass = bool(re.search(r"^flags\b.*\bbypass on\b", body, re.MULTILINE))
        elif kind == "parm":
            node.parms = parse_parm_values(body)
        elif kind == "chn":
            node.channels = parse_channels(body, scene.current_time)
        elif kind == "spareparmdef":
            node.spare_file_parms = _spare_file_parms(body)
    return scene


def load_hip(path: str) -> HipScene:
    """Parses the hip file at ``path``.

    Raises:
        InvalidInput: the file cannot be read or is not a Houdini scene.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        reason = exc.strerror or exc
        raise InvalidInput(f"Cannot read the Houdini scene {path}: {reason}.") from None
    return parse_hip(data, path)
