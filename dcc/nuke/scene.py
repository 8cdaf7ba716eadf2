"""Nuke's side of the plug-in: the only module that imports ``nuke``.

File knobs are evaluated by Nuke: ``nuke.filename(node)`` gives a Read's or Write's path with
its TCL (``[value root.name]``, ``[getenv SHOT]``) evaluated, the proxy path in proxy mode and
the frame token kept; other file knobs go through ``knob.evaluate()``. Runs on Nuke's main
thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nuke

from common.host import AssetKind
from common.scene_readers.nuke_report import INPUT_KNOBS, OUTPUT_CLASSES, read_frames, split_list

MENU_PATH = "Render/Submit to Cloudburst..."


@dataclass(frozen=True)
class FileKnobUse:
    """A file knob of a node that the render reads, evaluated by Nuke."""

    node: str
    knob: str
    kind: AssetKind
    path: str
    frames: tuple[int, ...]


@dataclass(frozen=True)
class WriteNode:
    """A Write (or DeepWrite, WriteGeo) node and what it writes."""

    name: str
    kind: AssetKind
    path: str
    views: tuple[str, ...]
    enabled: bool
    frames: tuple[int, int]
    file_type: str
    render_order: int


def script_path() -> str:
    """The saved script, or ``""`` for a script never saved."""
    name = nuke.root().name()
    return "" if name in ("", "Root") else name


def is_dirty() -> bool:
    return bool(nuke.root().modified())


def save() -> None:
    nuke.scriptSave()


def frame_range() -> tuple[int, int]:
    root = nuke.root()
    return int(root["first_frame"].value()), int(root["last_frame"].value())


def fps() -> float:
    return float(nuke.root()["fps"].value())


def resolution() -> tuple[int, int]:
    fmt = nuke.root().format()
    return int(fmt.width()), int(fmt.height())


def views() -> list[str]:
    return list(nuke.views())


def project_directory() -> str:
    """The script's project directory (relative file paths start there), or ``""``."""
    knob = nuke.root().knob("project_directory")
    return knob.evaluate() if knob is not None and knob.value() else ""


def _value(node: Any, name: str, default: Any = None) -> Any:
    knob = node.knob(name)
    return default if knob is None else knob.value()


def _path(node: Any, knob: str) -> str:
    if knob == "file":
        return nuke.filename(node) or ""
    return node[knob].evaluate() or ""


def file_knobs() -> list[FileKnobUse]:
    """Files that Read, ReadGeo, Camera, OCIO and similar nodes read (disabled ones left out)."""
    first, last = frame_range()
    uses = []
    for spec in INPUT_KNOBS:
        for node in nuke.allNodes(spec.node_class, recurseGroups=True):
            if _value(node, "disable", False) or (spec.when and not _value(node, spec.when)):
                continue
            path = _path(node, spec.knob)
            if not path:
                continue
            frames = read_frames(
                range(first, last + 1),
                int(node.firstFrame()),
                int(node.lastFrame()),
                before=str(_value(node, "before", "hold")),
                after=str(_value(node, "after", "hold")),
                frame_mode=str(_value(node, "frame_mode", "")),
                offset=int(float(_value(node, "frame", 0) or 0)),
            )
            uses.append(FileKnobUse(node.fullName(), spec.knob, spec.kind, path, tuple(frames)))
    root = nuke.root()
    if _value(root, "OCIO_config") == "custom" and _value(root, "customOCIOConfigPath"):
        path = root["customOCIOConfigPath"].evaluate()
        uses.append(FileKnobUse("root", "customOCIOConfigPath", AssetKind.OTHER, path, ()))
    return uses


def write_nodes() -> list[WriteNode]:
    """The nodes that write files, in render order."""
    first, last = frame_range()
    writes = []
    for cls, kind in OUTPUT_CLASSES.items():
        for node in nuke.allNodes(cls, recurseGroups=True):
            limit = bool(_value(node, "use_limit", False))
            written_views = _value(node, "views", "") or ""
            writes.append(
                WriteNode(
                    name=node.fullName(),
                    kind=kind,
                    path=nuke.filename(node) or "",
                    views=tuple(split_list(written_views) if written_views else views()),
                    enabled=not _value(node, "disable", False),
                    frames=(
                        int(_value(node, "first", first)) if limit else first,
                        int(_value(node, "last", last)) if limit else last,
                    ),
                    file_type=str(_value(node, "file_type", "") or ""),
                    render_order=int(_value(node, "render_order", 1) or 1),
                )
            )
    return sorted(writes, key=lambda w: w.render_order)


def main_window() -> Any:
    """Nuke gives no main window handle through its API; the panel floats on top."""
    return None


def add_menu_command(command: Callable[[], Any]) -> None:
    """Adds the Render menu's Cloudburst entry (Nuke's main thread)."""
    nuke.menu("Nuke").addCommand(MENU_PATH, command)


def show_error(message: str) -> None:
    nuke.message(message)
