"""Which render node (ROP) a Houdini job renders, and whether the job changes what it writes.

One set of rules for the submit panel (``dcc/houdini``, with ``hou``), ``cloudburst scan``
(the offline ``.hip`` reader) and the render node's ``hython_render.py``, each of which
describes the scene's render nodes as ``RopFacts`` and asks here (the two with ``hou``
find them with ``is_rop_node``, which takes a ``hou.Node`` without importing ``hou``):

1. the ROP the artist chose wins (even a geometry or USD ROP);
2. otherwise the last one rendered (``$DRIVERPATH``) when it is a default candidate;
3. otherwise the first default candidate, those in ``/out`` before those elsewhere (ROP
   networks, ``/stage``), in the scene's order within each.

A default candidate renders pictures (Mantra, Karma, Redshift, Arnold, USD Render...), is not
bypassed and writes files (not to MPlay). Geometry, Alembic, simulation and USD ROPs write
caches: they render only when chosen. A ROP's output parameter is left as the scene has it
unless the job's output names other files (``keeps_rop_output``).

This file runs on Houdini's own Python too (loaded by path by ``hython_render.py``), so it
imports only the standard library.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RopRole(StrEnum):
    """What a render node type makes."""

    PICTURES = "pictures"
    """Rendered images: a default candidate."""
    CACHE = "cache"
    """Geometry, Alembic, simulation or USD files: rendered only when chosen."""


@dataclass(frozen=True)
class RopType:
    """A render node type: the parameter it writes its files to, what they are, the renderer
    it drives and the parameter naming the camera it renders through ("" for none)."""

    output_parm: str
    role: RopRole
    renderer: str
    camera_parm: str = ""


_PICTURES, _CACHE = RopRole.PICTURES, RopRole.CACHE
#: Render node types by type name without namespace and version: the one table the panel,
#: the offline reader and the render script read. Parameter names are those of SideFX's node
#: references (https://www.sidefx.com/docs/houdini/nodes/out/) and Maxon's for Redshift.
ROP_TYPES: dict[str, RopType] = {
    "ifd": RopType("vm_picture", _PICTURES, "mantra", "camera"),
    "karma": RopType("picture", _PICTURES, "karma", "camera"),
    "usdrender": RopType("outputimage", _PICTURES, "karma", "override_camera"),
    "usdrender_rop": RopType("outputimage", _PICTURES, "karma", "override_camera"),
    "Redshift_ROP": RopType("RS_outputFileNamePrefix", _PICTURES, "redshift", "RS_renderCamera"),
    "arnold": RopType("ar_picture", _PICTURES, "arnold", "camera"),
    "comp": RopType("copoutput", _PICTURES, "comp"),
    "opengl": RopType("picture", _PICTURES, "opengl", "camera"),
    "baketexture": RopType("vm_uvoutputpicture1", _PICTURES, "mantra"),
    "usd": RopType("lopoutput", _CACHE, "usd"),
    "usd_rop": RopType("lopoutput", _CACHE, "usd"),
    "geometry": RopType("sopoutput", _CACHE, "geometry"),
    "rop_geometry": RopType("sopoutput", _CACHE, "geometry"),
    "alembic": RopType("filename", _CACHE, "alembic"),
    "rop_alembic": RopType("filename", _CACHE, "alembic"),
    "dop": RopType("dopoutput", _CACHE, "dop"),
}
#: Render nodes whose camera is a USD primitive of their stage, not a Houdini node.
USD_CAMERA_TYPES = frozenset({"usdrender", "usdrender_rop"})
#: ROP types that also live outside output networks (geometry networks, ``/stage``).
NETWORK_ROP_TYPES = frozenset({"rop_geometry", "rop_alembic", "usd_rop", "usdrender_rop"})
#: Output values that mean "render to a viewer", not to a file.
VIEWER_OUTPUTS = frozenset({"", "ip", "md", "imdisplay", "mplay"})


@dataclass(frozen=True)
class RopFacts:
    """What the rules need to know of one render node."""

    path: str
    type_name: str
    """Without namespace and version (``ifd``, ``Redshift_ROP``, ``usdrender_rop``)."""
    bypassed: bool = False
    output_parm: str = ""
    """The parameter it writes to (Mantra's ``soho_diskfile`` when it writes IFDs)."""
    output: str = ""
    """Its output as the scene has it; empty or a viewer name when it writes no file."""
    frames: tuple[int, int, int] | None = None
    """Its own frame range ``(first, last, step)``; None when unknown."""

    @property
    def role(self) -> RopRole:
        known = ROP_TYPES.get(self.type_name)
        return known.role if known is not None else RopRole.CACHE

    @property
    def writes_files(self) -> bool:
        return bool(self.output_parm) and self.output.strip() not in VIEWER_OUTPUTS

    @property
    def default_candidate(self) -> bool:
        """Whether it may render when the artist chose none."""
        return self.role is RopRole.PICTURES and not self.bypassed and self.writes_files


def output_parm(type_name: str, soho_outputmode: str = "") -> str:
    """The parameter a render node of ``type_name`` (without namespace and version) writes to:
    Mantra's ``soho_diskfile`` when its ``soho_outputmode`` is on (it writes IFD files); ""
    for a type these rules do not know."""
    known = ROP_TYPES.get(type_name)
    if known is None:
        return ""
    if type_name == "ifd" and soho_outputmode in ("on", "1"):
        return "soho_diskfile"
    return known.output_parm


def base_type(type_name: str) -> str:
    """``sidefx::karma::2.0`` -> ``karma``: a type name without namespace and version."""
    parts = type_name.split("::")
    if len(parts) >= 2 and re.fullmatch(r"[\d.]+", parts[-1]):
        parts = parts[:-1]
    return parts[-1]


def in_task_graph(node: Any) -> bool:
    """Whether a ``hou.Node`` belongs to a PDG graph (its ROPs are run by PDG, not submitted
    on their own)."""
    current = node.parent()
    while current is not None and current.path() != "/":
        if current.type().name() == "topnet" or current.path() == "/tasks":
            return True
        current = current.parent()
    return False


def is_rop_node(node: Any) -> bool:
    """Whether a ``hou.Node`` is a render node these rules know (and not PDG's)."""
    base = base_type(node.type().name())
    if base not in ROP_TYPES:
        return False
    where = node.type().category().name() == "Driver" or base in NETWORK_ROP_TYPES
    return where and not in_task_graph(node)


def frame_spec(frames: tuple[int, int, int]) -> str:
    """``(1, 10, 2)`` -> ``1-10x2``, ``(7, 7, 1)`` -> ``7``: a ROP's range as a frame spec."""
    first, last, step = frames
    if last == first:
        return str(first)
    return f"{first}-{last}" + (f"x{step}" if step != 1 else "")


def default_rop(rops: Sequence[RopFacts], last_rendered: str = "") -> RopFacts | None:
    """The ROP that renders when the artist chose none; None when no ROP renders pictures.

    Args:
        rops: the scene's render nodes, in the scene's order.
        last_rendered: ``$DRIVERPATH``, the ROP Houdini rendered last ("" when none).
    """
    candidates = [rop for rop in rops if rop.default_candidate]
    for rop in candidates:
        if last_rendered and rop.path == last_rendered:
            return rop
    ordered = [rop for rop in candidates if rop.path.startswith("/out/")] + [
        rop for rop in candidates if not rop.path.startswith("/out/")
    ]
    return ordered[0] if ordered else None


def find_rop(rops: Sequence[RopFacts], chosen: str = "", last_rendered: str = "") -> RopFacts:
    """The ROP a render renders: ``chosen`` when given, else ``default_rop``.

    Raises:
        LookupError: the chosen ROP is not in the scene or is bypassed, or nothing was chosen
            and no ROP renders pictures; the message says what to do.
    """
    if chosen:
        found = next((rop for rop in rops if rop.path == chosen), None)
        if found is None:
            raise LookupError(f"the scene has no render node {chosen}")
        if found.bypassed:
            raise LookupError(
                f"the render node {chosen} is bypassed in the scene: "
                "turn its bypass flag off and save, or choose another render node"
            )
        return found
    found = default_rop(rops, last_rendered)
    if found is None:
        others = ", ".join(rop.path for rop in rops) or "none"
        raise LookupError(
            "the scene has no render node that renders pictures to files (Mantra, Karma, "
            f"Redshift, Arnold, USD Render; it has: {others}): choose one in the panel"
        )
    return found


_FRAME_TOKEN = re.compile(r"#+|\$\{F\d?\}|\$F\d?(?![A-Za-z_0-9])|%0?(\d*)d")


def output_at(pattern: str, frame: int) -> str:
    """``pattern``'s file for ``frame``: ``####``, ``$F4``, ``${F4}`` and ``%04d`` replaced."""

    def number(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("#"):
            width = len(token)
        elif token.startswith("%"):
            width = int(match.group(1) or 0)
        else:
            digits = re.sub(r"\D", "", token)
            width = int(digits) if digits else 0
        return f"{frame:0{width}d}" if frame >= 0 else f"-{-frame:0{width}d}"

    return _FRAME_TOKEN.sub(number, pattern)


def keeps_rop_output(job_file: str, rop_file: str) -> bool:
    """Whether the ROP's own output already writes the job's file, so its output parameter
    (expressions included) is left as the scene has it.

    Args:
        job_file: the job's output for a frame it renders (``output_at``), variables
            expanded; "" when the job names no output.
        rop_file: the ROP's output parameter evaluated at that frame.
    """
    if not job_file:
        return True
    return bool(rop_file) and os.path.normpath(job_file) == os.path.normpath(rop_file)
