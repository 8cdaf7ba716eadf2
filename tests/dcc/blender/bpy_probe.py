"""Runs in its own process with real ``bpy``: builds scenes, enables the add-on, asks the adapter.

``python bpy_probe.py WORK_DIR OUT.json [BLEND_DIR]`` writes what it saw as JSON, for
``test_addon.py`` to assert on. A process of its own keeps Blender's global state (the open
file, registered classes) out of the test process.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bpy

ADDON = "dcc.blender"


def png(path: Path, name: str) -> Path:
    """Writes a real 4x4 PNG through Blender."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = bpy.data.images.new(name, 4, 4)
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()
    bpy.data.images.remove(image)
    return path


def build_library(folder: Path) -> Path:
    """``lib/props.blend``: a cube whose material uses ``lib/tex/prop_diffuse.png``."""
    bpy.ops.wm.read_homefile(use_empty=True)
    texture = png(folder / "lib" / "tex" / "prop_diffuse.png", "prop_diffuse")
    mesh = bpy.data.meshes.new("PropMesh")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    prop = bpy.data.objects.new("Prop", mesh)
    bpy.context.scene.collection.objects.link(prop)
    material = bpy.data.materials.new("PropMaterial")
    material.use_nodes = True
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = bpy.data.images.load(str(texture))
    mesh.materials.append(material)
    path = folder / "lib" / "props.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), relative_remap=True)
    return path


def build_shot(folder: Path, library: Path) -> Path:
    """``shot.blend``: every kind of dependency the test checks, and known scene facts."""
    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end, scene.frame_step = 5, 60, 1
    scene.render.fps, scene.render.fps_base = 25, 1.0
    scene.render.engine = "CYCLES"
    scene.render.resolution_x, scene.render.resolution_y = 640, 360
    scene.render.resolution_percentage = 50
    scene.render.filepath = "//render/shot_####"
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.view_layers[0].name = "Beauty"
    shadows = scene.view_layers.new("Shadows")
    shadows.use = False
    for name in ("ShotCam", "WitnessCam"):
        camera = bpy.data.objects.new(name, bpy.data.cameras.new(name))
        scene.collection.objects.link(camera)
    scene.camera = bpy.data.objects["ShotCam"]

    tex = folder / "tex"
    wood = bpy.data.images.load(str(png(tex / "wood.png", "w")))
    wood.name = "wood"
    wood.use_fake_user = True
    metal = bpy.data.images.new("metal", 4, 4)
    metal.source = "FILE"
    metal.filepath = str(tex / "metal_missing.png")
    metal.use_fake_user = True
    udim = bpy.data.images.new("skin", 4, 4, tiled=True)
    udim.tiles.new(1002)
    udim.tiles.new(1003)
    udim.source = "TILED"
    udim.filepath = str(tex / "skin.<UDIM>.png")
    udim.use_fake_user = True
    for tile in (1001, 1002):  # 1003 is missing
        shutil.copy(tex / "wood.png", tex / f"skin.{tile}.png")
    for frame in (1, 2, 4):  # 3 is missing
        shutil.copy(tex / "wood.png", tex / f"plate.{frame:04d}.png")
    plate = bpy.data.images.load(str(tex / "plate.0001.png"))
    plate.source = "SEQUENCE"
    plate.name = "plate"
    plate.use_fake_user = True

    with bpy.data.libraries.load(str(library), link=True, relative=True) as (_source, target):
        target.objects = ["Prop"]
    for obj in target.objects:
        scene.collection.objects.link(obj)
    path = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), relative_remap=True)
    return path


def adapter_view() -> dict[str, Any]:
    from dcc.blender.adapter import BlenderAdapter

    adapter = BlenderAdapter()
    info = adapter.scene_info()
    return {
        "scene_path": str(adapter.scene_path()),
        "dirty": adapter.is_dirty(),
        "info": {**asdict(info), "targets": [asdict(t) for t in info.targets]},
        "assets": [asdict(a) for a in adapter.collect_assets()],
    }


def addon_checks(report: dict[str, Any]) -> None:
    """Enables the add-on as Blender does, opens the panel through its operator, disables it."""
    import addon_utils  # Blender's own module, importable once bpy is

    from common.qt import dialog as qt_dialog
    from dcc.blender import addon

    module = addon_utils.enable(ADDON, default_set=True, persistent=True)
    report["enabled"] = module is not None and addon_utils.check(ADDON)[1]
    report["bl_info_name"] = getattr(module, "bl_info", {}).get("name")
    report["operator"] = hasattr(bpy.types, "RENDER_OT_cloudburst_submit")
    report["menu_entry"] = addon.menu_entry in bpy.types.TOPBAR_MT_render._dyn_ui_initialize()
    report["operator_result"] = sorted(bpy.ops.render.cloudburst_submit())
    report["timer_registered"] = bpy.app.timers.is_registered(addon.pump_qt_events)
    bpy.ops.render.cloudburst_submit()  # a second click brings the open panel forward
    dialogs = list(qt_dialog._OPEN)
    report["dialogs"] = len(dialogs)
    if dialogs:
        panel = dialogs[0].panel
        report["panel_dcc"] = panel.info.dcc if panel.info else None
        report["panel_frames"] = panel.form.frames.text()
        report["panel_dependencies"] = panel.dependencies.tree.topLevelItemCount()
        report["pump_while_open"] = addon.pump_qt_events()
        dialogs[0].close()
        report["pump_after_close"] = addon.pump_qt_events()
    addon_utils.disable(ADDON, default_set=True)
    report["operator_after_disable"] = hasattr(bpy.types, "RENDER_OT_cloudburst_submit")


def main() -> None:
    work, out = Path(sys.argv[1]), Path(sys.argv[2])
    blend_dir = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    report: dict[str, Any] = {}
    library = build_library(work)
    shot = build_shot(work, library)
    bpy.ops.wm.open_mainfile(filepath=str(shot))
    report["shot"] = adapter_view()
    from dcc.blender.adapter import BlenderAdapter

    bpy.context.scene.frame_end = 61
    BlenderAdapter().save()
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(shot))
    report["frame_end_after_save"] = bpy.context.scene.frame_end
    addon_checks(report)
    bpy.ops.wm.read_homefile(use_empty=True)
    report["untitled"] = adapter_view()
    report["real"] = {}
    if blend_dir is not None:
        for path in sorted(blend_dir.rglob("*.blend")):
            bpy.ops.wm.open_mainfile(filepath=str(path))
            report["real"][str(path.relative_to(blend_dir))] = adapter_view()
    out.write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
