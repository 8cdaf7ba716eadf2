"""``NukeAdapter``: the submit panel's view of the open Nuke script.

Targets are the Write nodes; dependencies are what Read, ReadGeo, Camera, OCIO and the like
read, evaluated by Nuke (``scene.py``), one path per view for ``%V``/``%v``, sequences checked
frame by frame over what the script's range needs. Every method runs on Nuke's main thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.host import Asset, RenderTarget, SceneInfo
from common.scene_readers import sequences
from common.scene_readers.nuke_report import expand_views
from common.scene_readers.report import unique
from dcc.nuke import scene


class NukeAdapter:
    """Implements ``common.host.HostAdapter`` for Nuke."""

    dcc = "nuke"

    def main_window(self) -> Any:
        return scene.main_window()

    def scene_path(self) -> Path | None:
        path = scene.script_path()
        return Path(path) if path else None

    def is_dirty(self) -> bool:
        return scene.is_dirty()

    def save(self) -> None:
        scene.save()

    def scene_info(self) -> SceneInfo:
        """The root's range, fps and format; each Write node is a target, in render order.

        No cameras: a Nuke render is its Write nodes, and a Camera node is an input wired into
        a ScanlineRender, not a choice the render can take, so the panel offers none.
        """
        path = scene.script_path()
        start, end = scene.frame_range()
        folder = self._folder(path)
        writes = scene.write_nodes()
        targets = tuple(
            RenderTarget(
                name=write.name,
                kind="write",
                output=self._absolute(write.path, folder),
                renderer="nuke",
                enabled=write.enabled,
            )
            for write in writes
        )
        first_enabled = next((w for w in writes if w.enabled), None)
        return SceneInfo(
            dcc=self.dcc,
            scene_path=path,
            frame_start=start,
            frame_end=max(start, end),
            fps=scene.fps(),
            renderer="nuke",
            resolution=scene.resolution(),
            targets=targets,
            cameras=(),
            output=self._absolute(first_enabled.path, folder) if first_enabled else "",
            output_format=first_enabled.file_type if first_enabled else "",
            extra={
                "views": scene.views(),
                "target_frames": {w.name: f"{w.frames[0]}-{w.frames[1]}" for w in writes},
                "project_root": folder,
            },
        )

    def collect_assets(self) -> list[Asset]:
        """Every file the script reads, missing ones included (disabled nodes left out)."""
        folder = self._folder(scene.script_path())
        views = scene.views()
        assets = []
        for use in scene.file_knobs():
            source = f"{use.node}.{use.knob}"
            for path in expand_views(use.path, views):
                absolute = self._absolute(path, folder)
                assets.append(
                    sequences.dependency(absolute, use.kind, frames=use.frames, source=source)
                )
        return list(unique(assets))

    def extra_widget(self, parent: Any) -> Any:
        """Nuke adds nothing to the panel."""
        return None

    @staticmethod
    def _folder(path: str) -> str:
        return scene.project_directory() or (os.path.dirname(path) if path else "")

    @staticmethod
    def _absolute(path: str, folder: str) -> str:
        if not path or sequences.is_windows_path(path) or os.path.isabs(path) or not folder:
            return path
        return os.path.normpath(os.path.join(folder, path))
