"""A small "studio" tree for end-to-end tests: a shot that links a library and uses a texture.

``make_studio_scene(root)`` writes, with real Blender (``bpy``) in a subprocess::

    <root>/show/tex/checker.png      an 8x8 checker image (made by bpy)
    <root>/show/lib/props.blend      collection "Props": a cone with a plain red material
    <root>/show/shots/sh010.blend    camera, sun, a plane textured with checker.png through an
                                     Image Texture node, and "Props" LINKED from props.blend

Both references inside ``sh010.blend`` are ABSOLUTE paths, as a studio's scenes often are, so a
copy of the tree elsewhere still reads the originals; that is what path remapping must fix.
The shot renders with Cycles on the CPU (64x36, 4 samples, fixed seed, no denoising) to PNG,
frames 1-4, and an empty that instances the props turns and moves so every frame differs.

This file is also the generator itself: run as a script (by the venv's Python, which has
``bpy``) it writes the tree; it imports nothing of Cloudburst.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TEXTURE = Path("show/tex/checker.png")
LIBRARY = Path("show/lib/props.blend")
SHOT = Path("show/shots/sh010.blend")
COLLECTION = "Props"
DEFAULT_OUTPUT = "//render/sh010_####"


def make_studio_scene(
    root: Path,
    *,
    output: str = DEFAULT_OUTPUT,
    resolution: tuple[int, int] = (64, 36),
    samples: int = 4,
    frames: tuple[int, int] = (1, 4),
) -> Path:
    """Writes the studio tree under ``root`` and returns the shot's path.

    Args:
        root: the studio root (created when missing).
        output: the shot's render output (``//`` relative to the shot, or absolute).
        resolution: render width and height.
        samples: Cycles samples per pixel.
        frames: the shot's first and last frame.

    Raises:
        subprocess.CalledProcessError: Blender could not write the tree (stderr attached).
    """
    root = Path(root).resolve()
    subprocess.run(
        [sys.executable, __file__, str(root), "--output", output,
         "--resolution", f"{resolution[0]}x{resolution[1]}", "--samples", str(samples),
         "--frames", f"{frames[0]}-{frames[1]}"],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return root / SHOT


# --- the generator (runs in the subprocess, with bpy) ---------------------------------------


def _write_texture(bpy: Any, path: Path) -> None:
    size = 8
    image = bpy.data.images.new("checker", size, size, alpha=False)
    pixels: list[float] = []
    for y in range(size):
        for x in range(size):
            light = (x + y) % 2 == 0
            pixels += [0.9, 0.85, 0.2, 1.0] if light else [0.1, 0.2, 0.6, 1.0]
    image.pixels = pixels
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()


def _write_library(bpy: Any, path: Path) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    material = bpy.data.materials.new("PropRed")
    if material.node_tree is None:  # Before Blender 5, node trees had to be asked for.
        material.use_nodes = True
    shader = material.node_tree.nodes["Principled BSDF"]
    shader.inputs["Base Color"].default_value = (0.8, 0.1, 0.08, 1.0)
    collection = bpy.data.collections.new(COLLECTION)
    bpy.context.scene.collection.children.link(collection)
    bpy.ops.mesh.primitive_cone_add(vertices=12, radius1=0.5, depth=1.0, location=(0, 0, 0.5))
    cone = bpy.context.active_object
    cone.name = "Cone"
    cone.data.materials.append(material)
    for owner in list(cone.users_collection):
        owner.objects.unlink(cone)
    collection.objects.link(cone)
    bpy.ops.wm.save_as_mainfile(filepath=str(path), compress=False)


def _configure_render(scene: Any, output: str, width: int, height: int, samples: int) -> None:
    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y, render.resolution_percentage = width, height, 100
    render.filepath = output
    render.use_file_extension = True
    settings = render.image_settings
    if hasattr(settings, "media_type"):  # Blender 5 gates formats by media type.
        settings.media_type = "IMAGE"
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    cycles = scene.cycles
    cycles.device = "CPU"
    cycles.samples = samples
    cycles.seed = 7
    cycles.use_animated_seed = False
    cycles.use_denoising = False
    cycles.use_adaptive_sampling = False
    cycles.max_bounces = 2


def _write_shot(bpy: Any, root: Path, output: str, size: tuple[int, int], samples: int,
                frames: tuple[int, int]) -> None:  # fmt: skip
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = frames
    _configure_render(scene, output, size[0], size[1], samples)
    world = bpy.data.worlds.new("World")
    if world.node_tree is None:
        world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.05, 0.05, 0.08, 1)
    scene.world = world

    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))
    sun.data.energy = 4.0
    sun.rotation_euler = (math.radians(40), 0.0, math.radians(30))
    camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    camera.location = (0.0, -5.0, 3.0)
    camera.rotation_euler = (math.radians(60), 0.0, 0.0)
    for obj in (sun, camera):
        scene.collection.objects.link(obj)
    scene.camera = camera

    bpy.ops.mesh.primitive_plane_add(size=4.0)
    plane = bpy.context.active_object
    plane.name = "Ground"
    material = bpy.data.materials.new("Checker")
    if material.node_tree is None:
        material.use_nodes = True
    nodes = material.node_tree.nodes
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = bpy.data.images.load(str(root / TEXTURE))  # an absolute path
    texture.interpolation = "Closest"
    material.node_tree.links.new(
        texture.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"]
    )
    plane.data.materials.append(material)

    library = str(root / LIBRARY)  # linked by its absolute path
    with bpy.data.libraries.load(library, link=True, relative=False) as (_, linked):
        linked.collections = [COLLECTION]
    props = bpy.data.objects.new("PropsInstance", None)
    props.instance_type = "COLLECTION"
    props.instance_collection = linked.collections[0]
    scene.collection.objects.link(props)
    first, last = frames
    props.location, props.rotation_euler = (-0.8, 0.0, 0.0), (0.0, 0.0, 0.0)
    props.keyframe_insert("location", frame=first)
    props.keyframe_insert("rotation_euler", frame=first)
    props.location, props.rotation_euler = (0.8, 0.3, 0.0), (0.0, 0.0, math.radians(120))
    props.keyframe_insert("location", frame=max(last, first + 1))
    props.keyframe_insert("rotation_euler", frame=max(last, first + 1))
    scene.frame_set(first)
    bpy.ops.wm.save_as_mainfile(filepath=str(root / SHOT), compress=False, relative_remap=False)


def main(argv: list[str] | None = None) -> int:
    """Writes the tree (the subprocess's entry point); returns the exit code."""
    parser = argparse.ArgumentParser(description="Write a small studio tree with bpy.")
    parser.add_argument("root")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    parser.add_argument("--resolution", default="64x36")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--frames", default="1-4")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.resolution.lower().split("x"))
    first, last = (int(v) for v in args.frames.split("-"))
    import bpy

    root = Path(args.root).resolve()
    for relative in (TEXTURE, LIBRARY, SHOT):
        os.makedirs(root / relative.parent, exist_ok=True)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    _write_texture(bpy, root / TEXTURE)
    _write_library(bpy, root / LIBRARY)
    _write_shot(bpy, root, args.output, (width, height), args.samples, (first, last))
    print(f"wrote {root / SHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
