"""What a DCC host gives the submit panel: the ``HostAdapter`` protocol and the scene facts.

Each DCC plug-in (``dcc/<host>/adapter.py``) implements ``HostAdapter`` on top of its
``scene.py``, the only module that imports the host's API. The panel and the job-spec builder
see only these types, so they behave the same in Maya, Houdini, Nuke and Blender.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class AssetKind(StrEnum):
    """What a dependency of a scene is."""

    IMAGE = "image"
    """A texture or plate (one file, a UDIM set or an image sequence)."""
    REFERENCE = "reference"
    """Another scene file the scene loads (Maya reference, linked .blend library, ...)."""
    CACHE = "cache"
    """Geometry or volume caches (Alembic, VDB, bgeo, USD, point caches)."""
    FONT = "font"
    AUDIO = "audio"
    OTHER = "other"


@dataclass(frozen=True)
class Asset:
    """One dependency of a scene, as the host (or an offline reader) found it."""

    path: str
    """The path as written in the scene, with variables expanded; may hold ``####``,
    ``%04d``, ``$F4`` or ``<UDIM>`` for a sequence or tile set."""
    kind: AssetKind
    exists: bool
    """Whether every file it names is on disk (for a sequence: at least one frame, and none
    of ``missing_files``)."""
    size: int = 0
    """Bytes on disk, all files together."""
    files: tuple[str, ...] = ()
    """For sequences and tile sets: the files that exist."""
    missing_files: tuple[str, ...] = ()
    """For sequences: expected files that are missing."""
    source: str = ""
    """Where in the scene it is used (node and attribute, knob, datablock)."""
    found_by: str = ""
    """Which of the DCC's search rules found it when not where it is written (Maya: the
    project, the ``//`` project marker, beside the scene); empty when found as written."""
    evaluated: bool = True
    """False for a path that is an expression only the DCC evaluates (Houdini's backticks and
    ``chs()``), listed as written: it is neither found nor missing, and no file is sent."""


@dataclass(frozen=True)
class RenderTarget:
    """Something the scene can render: a Maya render layer, a Houdini ROP, a Nuke Write node,
    a Blender view layer."""

    name: str
    kind: str
    """``render_layer``, ``rop``, ``write``, ``view_layer``."""
    cameras: tuple[str, ...] = ()
    output: str = ""
    """Its output path pattern, as the host would write it."""
    renderer: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class SceneInfo:
    """The facts of the open scene that a submission needs."""

    dcc: str
    """``blender``, ``maya``, ``houdini`` or ``nuke``."""
    scene_path: str
    frame_start: int
    frame_end: int
    frame_step: int = 1
    fps: float = 24.0
    renderer: str = ""
    resolution: tuple[int, int] = (0, 0)
    targets: tuple[RenderTarget, ...] = ()
    cameras: tuple[str, ...] = ()
    output: str = ""
    """The scene's default output path pattern."""
    output_format: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class HostAdapter(Protocol):
    """The host-side half of the submit panel. Methods run on the host's UI thread."""

    dcc: str

    def main_window(self) -> Any:
        """The host's main window (a QWidget) to parent the panel to, or None."""
        ...

    def scene_path(self) -> Path | None:
        """The saved scene file, or None for a scene never saved."""
        ...

    def is_dirty(self) -> bool:
        """Whether the scene has unsaved changes."""
        ...

    def save(self) -> None:
        """Saves the scene in place."""
        ...

    def scene_info(self) -> SceneInfo:
        """Facts of the open scene."""
        ...

    def collect_assets(self) -> list[Asset]:
        """Every file the scene needs, missing ones included."""
        ...

    def extra_widget(self, parent: Any) -> Any:
        """An optional host-specific widget for the panel (None when there is none)."""
        ...
