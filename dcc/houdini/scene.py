"""Houdini's side of the plug-in: the only module that imports ``hou``.

Facades over ``hou`` returning plain values: the scene's range, its render nodes (ROPs) and
every file reference (``hou.fileReferences()``), each evaluated by Houdini frame by frame so
``$HIP``, ``$JOB``, ``$OS``, ``$F4`` and backtick expressions mean exactly what they mean to
the renderer. Runs on Houdini's main thread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import hou

from common.houdini_rops import (
    ROP_TYPES,
    VIEWER_OUTPUTS,
    RopFacts,
    base_type,
    in_task_graph,
    is_rop_node,
    output_parm,
)

#: Not files: Houdini's temporary and embedded data, and its own install.
NOT_FILES = ("temp:", "opdef:", "oplib:", "op:")
_FRAME_VARIABLE = re.compile(r"\$\{F\d?\}|\$F\d?(?![A-Za-z_0-9])")


@dataclass(frozen=True)
class Rop:
    """A render node and what it renders."""

    path: str
    type_name: str
    renderer: str
    output_parm: str
    pattern: str
    first_output: str
    """Its output file for its first frame, as Houdini evaluates it (``""`` for a viewer)."""
    frames: tuple[int, int, int]
    camera: str
    bypassed: bool

    @property
    def facts(self) -> RopFacts:
        """What ``common.houdini_rops`` chooses the render node by."""
        return RopFacts(
            self.path, self.type_name, self.bypassed, self.output_parm, self.pattern, self.frames
        )


@dataclass(frozen=True)
class FileReference:
    """A parameter naming a file, with the file it names for each frame asked."""

    node: str
    parm: str
    pattern: str
    files: dict[int, str]
    """Empty when Houdini could not evaluate the parameter here."""


def hip_path() -> str:
    """The saved scene, or ``""`` for a scene never saved."""
    return "" if hou.hipFile.isNewFile() else hou.hipFile.path()


def is_dirty() -> bool:
    return bool(hou.hipFile.hasUnsavedChanges())


def save() -> None:
    hou.hipFile.save()


def frame_range() -> tuple[int, int]:
    """The global animation range (``$FSTART``, ``$FEND``)."""
    start, end = hou.playbar.frameRange()
    return round(start), round(end)


def fps() -> float:
    return float(hou.fps())


def variable(name: str) -> str:
    """A Houdini variable's value (``""`` when unset)."""
    value = hou.text.expandString(f"${name}")
    return "" if value == f"${name}" else value


def pattern_of(parm: Any) -> str:
    """The parameter's path with variables expanded but the frame kept as ``$F4``/``$F``.

    Plain strings are expanded with ``$OS`` (a node-local variable) first; strings with
    backticks (``chs()`` of another node's path) are evaluated by Houdini at frames 1 and 2
    and the digits that differ become the frame token.
    """
    raw = _unexpanded(parm)
    if raw is None or "`" in raw:
        try:
            return _frame_pattern(parm.evalAtFrame(1), parm.evalAtFrame(2))
        except hou.OperationFailed:  # e.g. a PDG attribute, known only when PDG cooks
            return raw or ""
    tokens: list[str] = []

    def protect(match: re.Match[str]) -> str:
        tokens.append(match.group(0))
        return f"@@CLOUDBURST{len(tokens) - 1}@@"

    protected = _FRAME_VARIABLE.sub(protect, raw)
    protected = re.sub(r"\$\{OS\}|\$OS(?![A-Za-z_0-9])", parm.node().name(), protected)
    expanded = hou.text.expandString(protected)
    return re.sub(r"@@CLOUDBURST(\d+)@@", lambda m: tokens[int(m.group(1))], expanded)


def _unexpanded(parm: Any) -> str | None:
    """The parameter's text as typed; None when a channel (an expression) drives it."""
    try:
        return str(parm.unexpandedString())
    except hou.OperationFailed:
        return None


def _frame_pattern(first: str, second: str) -> str:
    """``/r/a.0001.exr`` and ``/r/a.0002.exr`` -> ``/r/a.$F4.exr``."""
    if first == second:
        return first
    start = 0
    while start < min(len(first), len(second)) and first[start] == second[start]:
        start += 1
    while start > 0 and first[start - 1].isdigit():
        start -= 1
    end = start
    while end < len(first) and first[end].isdigit():
        end += 1
    digits = first[start:end]
    token = f"$F{len(digits)}" if len(digits) > 1 else "$F"
    return first[:start] + token + first[end:]


def rops() -> list[Rop]:
    """The render nodes Cloudburst knows (Mantra, Karma, Redshift, geometry caches...)."""
    found = []
    for node in hou.node("/").allSubChildren():
        base = base_type(node.type().name())
        kind = ROP_TYPES.get(base)
        if kind is None or not is_rop_node(node):
            continue
        parm_name = output_parm(base, _string(node, "soho_outputmode"))
        parm = node.parm(parm_name)
        frames = _rop_frames(node)
        pattern = first = ""
        if parm is not None and _unexpanded(parm) not in VIEWER_OUTPUTS:
            pattern = pattern_of(parm)
            try:
                first = parm.evalAtFrame(frames[0])
            except hou.OperationFailed:  # e.g. a PDG attribute, known only when PDG cooks
                first = ""
        camera_parm = node.parm(kind.camera_parm) if kind.camera_parm else None
        found.append(
            Rop(
                path=node.path(),
                type_name=base,
                renderer=kind.renderer,
                output_parm=parm_name,
                pattern=pattern,
                first_output=first,
                frames=frames,
                camera=camera_parm.evalAsString() if camera_parm is not None else "",
                bypassed=node.isBypassed(),
            )
        )
    return found


def _string(node: Any, name: str) -> str:
    parm = node.parm(name)
    return parm.evalAsString() if parm is not None else ""


def _rop_frames(node: Any) -> tuple[int, int, int]:
    mode = _string(node, "trange")
    if mode in ("", "off", "0"):
        current = round(hou.frame())
        return current, current, 1
    first, last, step = node.parmTuple("f").eval()
    return round(first), max(round(first), round(last)), max(1, round(step))


def camera_resolution(camera: str, rop: str) -> tuple[int, int]:
    """The resolution a render node renders: its camera's, unless the node overrides it."""
    width = height = 0
    camera_node = hou.node(camera) if camera else None
    if camera_node is not None and camera_node.parmTuple("res") is not None:
        width, height = (round(v) for v in camera_node.parmTuple("res").eval())
    node = hou.node(rop)
    if node is not None and _string(node, "override_camerares") in ("on", "1"):
        fraction = _string(node, "res_fraction") or "specific"
        if fraction == "specific" and node.parmTuple("res_override") is not None:
            width, height = (round(v) for v in node.parmTuple("res_override").eval())
        elif re.fullmatch(r"[\d.]+", fraction):
            width, height = round(width * float(fraction)), round(height * float(fraction))
    return width, height


def cameras() -> list[str]:
    return [
        node.path()
        for node in hou.node("/obj").allSubChildren()
        if node.type().name() in ("cam", "stereocamrig")
    ]


def file_references(frames: Sequence[int], outputs: set[tuple[str, str]]) -> list[FileReference]:
    """Every file the scene reads (``hou.fileReferences()``), minus what render nodes write.

    Args:
        frames: the frames to evaluate sequences at.
        outputs: ``(node path, parm name)`` of the render nodes' outputs, left out.
    """
    found = []
    for parm, raw in hou.fileReferences():
        if parm is None or not raw or raw.startswith(NOT_FILES):
            continue
        node = parm.node()
        if (node.path(), parm.name()) in outputs or node.isBypassed() or in_task_graph(node):
            continue
        if node.type().category().name() == "Driver":
            continue  # render nodes name what they write (pictures, IFDs, deep and photon maps)
        if raw.startswith(("$HH/", "$HFS/")):
            continue
        pattern = pattern_of(parm)
        sequence = bool(_FRAME_VARIABLE.search(raw))
        asked = frames if sequence else frames[:1]
        try:
            files = {frame: parm.evalAtFrame(frame) for frame in asked}
        except hou.OperationFailed:  # needs what only a cook knows (PDG attributes)
            files = {}
        found.append(FileReference(node.path(), parm.name(), pattern, files))
    return found


def main_window() -> Any:
    """Houdini's main window (a QWidget), for the panel to stay above."""
    return hou.qt.mainWindow()


def show_error(message: str) -> None:
    hou.ui.displayMessage(message, severity=hou.severityType.Error)
