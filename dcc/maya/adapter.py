"""``MayaAdapter``: the submit panel's view of the open Maya scene.

Facts and dependencies come from Maya itself through ``scene.py``; path rules (tiles,
sequences, Arnold ``.tx``, output names) are the ones the offline ``.ma`` reader uses, so the
panel and ``cloudburst scan`` agree. Every method runs on Maya's main thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.scene_readers import maya_nodes, sequences
from common.scene_readers.maya_report import output_pattern
from common.scene_readers.report import unique
from dcc.maya import scene


class MayaAdapter:
    """Implements ``common.host.HostAdapter`` for Maya."""

    dcc = "maya"

    def main_window(self) -> Any:
        return scene.main_window()

    def scene_path(self) -> Path | None:
        path = scene.scene_path()
        return Path(path) if path else None

    def is_dirty(self) -> bool:
        return scene.is_dirty()

    def save(self) -> None:
        scene.save()

    def scene_info(self) -> SceneInfo:
        """Frame range, renderer, resolution, render layers (targets) and renderable cameras.

        Each render layer is a target writing ``<images>/<prefix>.####.<ext>`` (image prefix
        tokens ``<Scene>``, ``<RenderLayer>``, ``<Camera>`` expanded).
        """
        path = scene.scene_path()
        start, end, step, source = scene.frame_range()
        renderer = scene.renderer()
        cameras = tuple(dict.fromkeys(scene.renderable_cameras()))
        extension = scene.image_extension(renderer)
        prefix = scene.image_prefix()
        images = scene.images_folder()
        stem = os.path.splitext(os.path.basename(path))[0] if path else "untitled"
        camera = cameras[0] if cameras else ""
        targets = tuple(
            RenderTarget(
                name=layer,
                kind="render_layer",
                cameras=cameras,
                output=output_pattern(images, prefix, stem, layer, camera, extension),
                renderer=renderer,
                enabled=renders,
            )
            for layer, renders in scene.render_layers()
        )
        enabled = [t for t in targets if t.enabled] or list(targets)
        return SceneInfo(
            dcc=self.dcc,
            scene_path=path,
            frame_start=start,
            frame_end=max(start, end),
            frame_step=step,
            fps=scene.fps(),
            renderer=renderer,
            resolution=scene.resolution(),
            targets=targets,
            cameras=cameras,
            output=enabled[0].output if enabled else "",
            output_format=extension,
            extra={
                "frame_range_source": source,
                "image_prefix": prefix,
                "project_root": scene.workspace_root(),
            },
        )

    def collect_assets(self) -> list[Asset]:
        """Textures, caches and references at any depth, missing ones included.

        Unloaded references are not rendered, so neither they nor their files are listed.
        """
        start, end, step, _ = scene.frame_range()
        frames = range(start, max(start, end) + 1, step)
        root = scene.workspace_root()
        assets: list[Asset] = []
        for reference in scene.references():
            if not reference.loaded:
                continue
            source = f"{reference.ref_node} (file -r {reference.written!r})"
            path = self._absolute(reference.path, root)
            assets.append(sequences.dependency(path, AssetKind.REFERENCE, source=source))
        for use in scene.file_uses():
            path = self._absolute(use.pattern, root)
            source = f"{use.node}.{use.attribute}"
            assets.append(sequences.dependency(path, use.kind, frames=frames, source=source))
            tx = maya_nodes.arnold_tx(path)
            if tx:
                assets.append(sequences.dependency(tx, use.kind, source=f"{source} (.tx)"))
        return list(unique(assets))

    def extra_widget(self, parent: Any) -> Any:
        """Maya adds nothing to the panel."""
        return None

    @staticmethod
    def _absolute(path: str, root: str) -> str:
        if sequences.is_windows_path(path) or os.path.isabs(path) or not root:
            return path
        return os.path.normpath(os.path.join(root, path))
