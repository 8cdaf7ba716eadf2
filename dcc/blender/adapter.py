"""``BlenderAdapter``: the submit panel's view of the open Blender file.

Scene facts come from ``scene.py`` (``bpy``); dependencies from the saved file through Blender
Asset Tracer (``dependencies.py``). Every method runs on Blender's main thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.host import Asset, RenderTarget, SceneInfo
from dcc.blender import dependencies, scene


class BlenderAdapter:
    """Implements ``common.host.HostAdapter`` for Blender."""

    dcc = "blender"

    def main_window(self) -> Any:
        """Blender has no Qt main window: the panel is a top-level window."""
        return None

    def scene_path(self) -> Path | None:
        """The saved .blend file, or None for a file never saved."""
        path = scene.file_path()
        return Path(path) if path else None

    def is_dirty(self) -> bool:
        """Whether the file has unsaved changes."""
        return scene.is_dirty()

    def save(self) -> None:
        """Saves the file in place (the panel asks only for a file saved once before)."""
        scene.save()

    def scene_info(self) -> SceneInfo:
        """The active scene's frame range, fps, engine, resolution, view layers and output.

        Each view layer that renders is a target; all of them render unless the artist picks
        one. ``extra`` holds ``project_root`` (the .blend's folder) and ``camera``.
        """
        path = scene.file_path()
        start, end, step = scene.frame_range()
        engine = scene.engine()
        camera = scene.active_camera()
        output = scene.output_path()
        targets = tuple(
            RenderTarget(
                name=name,
                kind="view_layer",
                cameras=(camera,) if camera else (),
                output=output,
                renderer=engine,
                enabled=use,
            )
            for name, use in scene.view_layers()
        )
        return SceneInfo(
            dcc=self.dcc,
            scene_path=path,
            frame_start=start,
            frame_end=end,
            frame_step=step,
            fps=scene.fps(),
            renderer=engine,
            resolution=scene.resolution(),
            targets=targets,
            cameras=tuple(scene.cameras()),
            output=output,
            output_format=scene.output_format(),
            extra={"project_root": os.path.dirname(path) if path else "", "camera": camera},
        )

    def collect_assets(self) -> list[Asset]:
        """Every file the saved .blend needs, missing ones included; [] for an unsaved file.

        Reads the file on disk, so changes not yet saved are not seen (the panel asks for a
        save first).
        """
        path = scene.file_path()
        if not path:
            return []
        return dependencies.trace(path, udim_tiles=scene.udim_tiles(), also=scene.linked_files())

    def extra_widget(self, parent: Any) -> Any:
        """Blender adds nothing to the panel."""
        return None
