"""``HoudiniAdapter``: the submit panel's view of the open Houdini scene.

Render targets are the scene's render nodes (ROPs); dependencies are ``hou.fileReferences()``
evaluated by Houdini for every frame of the scene's range, minus what the ROPs write, files
that ship with Houdini and PDG work items. Every method runs on Houdini's main thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.houdini_rops import default_rop, frame_spec
from common.scene_readers import sequences
from common.scene_readers.houdini_report import STOCK_FILES
from common.scene_readers.report import unique
from dcc.houdini import scene

IMAGE_EXTENSIONS = (".exr", ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".rat", ".tx", ".hdr",
                    ".pic", ".tga", ".dpx", ".cin")  # fmt: skip
CACHE_EXTENSIONS = (".bgeo", ".sc", ".gz", ".geo", ".abc", ".vdb", ".obj", ".fbx", ".usd",
                    ".usda", ".usdc", ".usdz", ".pc", ".sim", ".bphys")  # fmt: skip


def kind_of(path: str) -> AssetKind:
    """What a file is, from its extension (Houdini's file parameters do not say)."""
    lower = path.lower()
    if lower.endswith(IMAGE_EXTENSIONS):
        return AssetKind.IMAGE
    if lower.endswith(CACHE_EXTENSIONS):
        return AssetKind.CACHE
    if lower.endswith((".hip", ".hipnc", ".hiplc")):
        return AssetKind.REFERENCE
    return AssetKind.OTHER


class HoudiniAdapter:
    """Implements ``common.host.HostAdapter`` for Houdini."""

    dcc = "houdini"

    def main_window(self) -> Any:
        return scene.main_window()

    def scene_path(self) -> Path | None:
        path = scene.hip_path()
        return Path(path) if path else None

    def is_dirty(self) -> bool:
        return scene.is_dirty()

    def save(self) -> None:
        scene.save()

    def scene_info(self) -> SceneInfo:
        """The global range, fps and the ROPs with their own ranges; the default target is
        the one ``common.houdini_rops.default_rop`` picks (as the offline reader and the render
        node do)."""
        start, end = scene.frame_range()
        path = scene.hip_path()
        hip = os.path.dirname(path)
        targets = []
        rops = scene.rops()
        for rop in rops:
            targets.append(
                RenderTarget(
                    name=rop.path,
                    kind="rop",
                    cameras=(rop.camera,) if rop.camera else (),
                    output=self._absolute(rop.pattern, hip),
                    renderer=rop.renderer,
                    enabled=not rop.bypassed and bool(rop.pattern),
                )
            )
        chosen = default_rop([rop.facts for rop in rops], scene.variable("DRIVERPATH"))
        default = next((t for t in targets if chosen and t.name == chosen.path), None)
        camera = default.cameras[0] if default and default.cameras else ""
        return SceneInfo(
            dcc=self.dcc,
            scene_path=path,
            frame_start=start,
            frame_end=max(start, end),
            fps=scene.fps(),
            renderer=default.renderer if default else "",
            resolution=scene.camera_resolution(camera, default.name) if default else (0, 0),
            targets=tuple(targets),
            cameras=tuple(scene.cameras()),
            output=default.output if default else "",
            extra={
                "default_target": default.name if default else "",
                "target_frames": {rop.path: frame_spec(rop.frames) for rop in rops},
                "project_root": scene.variable("JOB") or (os.path.dirname(path) if path else ""),
            },
        )

    def collect_assets(self) -> list[Asset]:
        """Every file the scene reads, evaluated by Houdini, missing ones included."""
        start, end = scene.frame_range()
        frames = list(range(start, max(start, end) + 1))
        hip = os.path.dirname(scene.hip_path())
        outputs = {(rop.path, rop.output_parm) for rop in scene.rops()}
        assets = []
        for ref in scene.file_references(frames, outputs):
            files = {f: self._absolute(p, hip) for f, p in ref.files.items() if p}
            if files and all(os.path.basename(p) in STOCK_FILES and not os.path.exists(p)
                   for p in files.values()):  # fmt: skip
                continue  # ships with Houdini, found on its own search path
            pattern = self._absolute(ref.pattern, hip)
            source = f"{ref.node}/{ref.parm}"
            assets.append(
                sequences.evaluated_dependency(pattern, kind_of(pattern), files, source=source)
            )
        return list(unique(assets))

    def extra_widget(self, parent: Any) -> Any:
        """Houdini adds nothing to the panel."""
        return None

    @staticmethod
    def _absolute(path: str, hip: str) -> str:
        if not path or sequences.is_windows_path(path) or os.path.isabs(path) or not hip:
            return path
        if path.startswith(("$", "`")):
            return path
        return os.path.normpath(os.path.join(hip, path))
