"""Writes a .blend with two view layers and two cameras whose renders differ. Needs ``bpy``.

``python -m tests.cloud_agent.runners.layered_scene OUT.blend``

* view layer ``Reds`` shows only the collection ``RedSide``: a red box at +X;
* view layer ``Greens`` shows only ``GreenSide``: a green box at -X;
* camera ``LookEast`` looks at +X (the scene's camera), ``LookWest`` at -X;
* a timeline marker at frame 1 binds ``LookEast``, as camera switching does;
* the world is grey; Workbench renders flat object colours, 16x16 pixels.

So the scene's own render (all layers, ``LookEast``) is red, and ``Greens`` through
``LookWest`` is green, ``Reds`` through ``LookWest`` and ``Greens`` through ``LookEast`` grey.
"""

from __future__ import annotations

import math
import sys
from typing import Any

#: Each look's colour as the test reads it back (sRGB, Standard view transform).
RED = (1.0, 0.0, 0.0)
GREEN = (0.0, 1.0, 0.0)
GREY = (0.2, 0.2, 0.2)


def _box(bpy: Any, name: str, x: float, colour: tuple[float, float, float]) -> Any:
    s = 6.0
    verts = [(x + dx, dy, dz) for dx in (-s, s) for dy in (-s, s) for dz in (-s, s)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, [], faces)
    obj = bpy.data.objects.new(name, mesh)
    obj.color = (*colour, 1.0)
    return obj


def _camera(bpy: Any, name: str, turn: float) -> Any:
    camera = bpy.data.objects.new(name, bpy.data.cameras.new(name))
    camera.rotation_euler = (math.pi / 2, 0.0, turn)
    return camera


def write(path: str) -> None:
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    render = scene.render
    render.engine = "BLENDER_WORKBENCH"
    render.resolution_x = render.resolution_y = 16
    render.resolution_percentage = 100
    render.image_settings.file_format = "PNG"
    scene.display.shading.light = "FLAT"
    scene.display.shading.color_type = "OBJECT"
    scene.view_settings.view_transform = "Standard"
    scene.frame_start = scene.frame_end = 1
    world = bpy.data.worlds.new("Grey")
    world.color = GREY
    scene.world = world

    for name, x, colour in (("RedSide", 20.0, RED), ("GreenSide", -20.0, GREEN)):
        collection = bpy.data.collections.new(name)
        scene.collection.children.link(collection)
        collection.objects.link(_box(bpy, f"{name}Box", x, colour))
    east = _camera(bpy, "LookEast", -math.pi / 2)
    west = _camera(bpy, "LookWest", math.pi / 2)
    scene.collection.objects.link(east)
    scene.collection.objects.link(west)
    scene.camera = east
    scene.timeline_markers.new("east", frame=1).camera = east  # binds LookEast from frame 1

    reds = scene.view_layers[0]
    reds.name = "Reds"
    greens = scene.view_layers.new("Greens")
    reds.layer_collection.children["GreenSide"].exclude = True
    greens.layer_collection.children["RedSide"].exclude = True
    bpy.ops.wm.save_as_mainfile(filepath=path, compress=False)


if __name__ == "__main__":
    write(sys.argv[1])
