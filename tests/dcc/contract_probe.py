"""Runs the adapter contract's questions in real Blender (``bpy``), in a process of its own.

``python contract_probe.py WORK_DIR OUT.json`` builds a small scene with ``bpy`` (a textured
plane, frames 1-12, two view layers), saves it as ``WORK_DIR/shot.blend``, and writes what
``BlenderAdapter`` answers (``contract.describe``) as JSON. ``bpy`` keeps one open file and
its registrations per process, so this runs apart from the test process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # a script run by path: make ``dcc`` and ``tests`` importable

import bpy  # noqa: E402

from dcc.blender.adapter import BlenderAdapter  # noqa: E402
from tests.dcc.contract import describe  # noqa: E402


def build(folder: Path) -> Path:
    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, 12
    scene.render.fps = 24
    scene.render.engine = "CYCLES"
    scene.render.resolution_x, scene.render.resolution_y = 320, 180
    scene.render.resolution_percentage = 100
    scene.render.filepath = "//render/shot_####"
    scene.render.image_settings.file_format = "PNG"
    scene.view_layers[0].name = "Beauty"
    scene.view_layers.new("Matte")
    camera = bpy.data.objects.new("Cam", bpy.data.cameras.new("Cam"))
    scene.collection.objects.link(camera)
    scene.camera = camera
    texture = folder / "tex" / "grid.png"
    texture.parent.mkdir(parents=True)
    image = bpy.data.images.new("grid", 4, 4)
    image.filepath_raw = str(texture)
    image.file_format = "PNG"
    image.save()
    material = bpy.data.materials.new("Grid")
    material.use_nodes = True
    node = material.node_tree.nodes.new("ShaderNodeTexImage")
    node.image = image
    mesh = bpy.data.meshes.new("Plane")
    mesh.from_pydata([(0, 0, 0), (1, 0, 0), (0, 1, 0)], [], [(0, 1, 2)])
    mesh.materials.append(material)
    scene.collection.objects.link(bpy.data.objects.new("Plane", mesh))
    path = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), relative_remap=True)
    return path


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    build(folder)
    out.write_text(json.dumps(describe(BlenderAdapter()), indent=1))


if __name__ == "__main__":
    main()
