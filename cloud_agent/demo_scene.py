"""Writes a small demo .blend for trying the farm and for tests.

``python -m cloud_agent.demo_scene OUT.blend [--frames 1-24] [--resolution 320x180] [--samples 8]``

The scene has a ground plane, three coloured objects, a sun, a camera and a cube that moves and
turns through the frame range, so every frame differs. It renders with Cycles on the CPU with a
handful of samples and no denoising, to PNG files under ``//render/frame_####``. Writing it needs
``bpy``, so code that lacks it runs this module as a subprocess.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_OUTPUT = "//render/frame_####"
_FRAMES = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$")
_RESOLUTION = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_frame_range(text: str) -> tuple[int, int]:
    """Parses ``1-24`` (or a single frame ``5``) into ``(start, end)``.

    Raises:
        ValueError: the text is not a range, or it runs backwards.
    """
    match = _FRAMES.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a frame range; write it as 1-24.")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) is not None else start
    if end < start:
        raise ValueError(f"The frame range {text!r} runs backwards; write {end}-{start}.")
    return start, end


def parse_resolution(text: str) -> tuple[int, int]:
    """Parses ``320x180`` into ``(width, height)``.

    Raises:
        ValueError: the text is not WIDTHxHEIGHT with both at least 4 pixels.
    """
    match = _RESOLUTION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a resolution; write it as 320x180.")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 4 or height < 4:
        raise ValueError(f"The resolution {text!r} is too small; use at least 4x4.")
    return width, height


def write_demo_scene(
    path: str | os.PathLike[str],
    start: int = 1,
    end: int = 24,
    width: int = 320,
    height: int = 180,
    samples: int = 8,
) -> str:
    """Builds the demo scene from an empty file and saves it.

    Must run in a process that can import ``bpy`` (it replaces the process's open file).

    Args:
        path: where to write the .blend file; its folder is created.
        start: first frame of the scene's range.
        end: last frame of the scene's range.
        width: render width in pixels.
        height: render height in pixels.
        samples: Cycles samples per pixel.

    Returns:
        The absolute path written.
    """
    import bpy  # Only this function needs Blender.

    target = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    _configure_render(scene, start, end, width, height, samples)
    _build_world(bpy, scene)
    _build_objects(bpy, scene, start, end)
    bpy.ops.wm.save_as_mainfile(filepath=target, compress=False)
    logger.info("wrote demo scene %s (frames %s-%s, %sx%s)", target, start, end, width, height)
    return target


def _configure_render(scene: Any, start: int, end: int, width: int, height: int, samples: int):
    scene.frame_start, scene.frame_end, scene.frame_step = start, end, 1
    scene.frame_current = start
    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y, render.resolution_percentage = width, height, 100
    render.filepath = DEFAULT_OUTPUT
    render.use_file_extension = True
    settings = render.image_settings
    if hasattr(settings, "media_type"):  # Blender 5 gates formats by media type.
        settings.media_type = "IMAGE"
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    cycles = scene.cycles
    cycles.device = "CPU"
    cycles.samples = max(int(samples), 1)
    cycles.use_denoising = False
    cycles.use_adaptive_sampling = False
    cycles.max_bounces = 4
    cycles.diffuse_bounces = cycles.glossy_bounces = 2
    cycles.transmission_bounces = cycles.volume_bounces = cycles.transparent_max_bounces = 2


def _build_world(bpy: Any, scene: Any) -> None:
    world = bpy.data.worlds.new("DemoWorld")
    if world.node_tree is None:  # Before Blender 5, node trees had to be asked for.
        world.use_nodes = True
    background = world.node_tree.nodes.get("Background")
    if background is not None:
        background.inputs["Color"].default_value = (0.05, 0.07, 0.1, 1.0)
        background.inputs["Strength"].default_value = 1.0
    scene.world = world

    sun_data = bpy.data.lights.new("Sun", type="SUN")
    sun_data.energy = 4.0
    sun = bpy.data.objects.new("Sun", sun_data)
    sun.rotation_euler = (math.radians(50), math.radians(10), math.radians(30))
    scene.collection.objects.link(sun)

    camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    camera.location = (7.0, -7.0, 4.5)
    camera.rotation_euler = (math.radians(66), 0.0, math.radians(45))
    scene.collection.objects.link(camera)
    scene.camera = camera


def _material(bpy: Any, name: str, color: tuple[float, float, float]) -> Any:
    material = bpy.data.materials.new(name)
    material.diffuse_color = (*color, 1.0)
    if material.node_tree is None:
        material.use_nodes = True
    shader = material.node_tree.nodes.get("Principled BSDF")
    if shader is not None:
        shader.inputs["Base Color"].default_value = (*color, 1.0)
        shader.inputs["Roughness"].default_value = 0.5
    return material


def _add(bpy: Any, operator: str, name: str, color: tuple[float, float, float], **kwargs: Any):
    getattr(bpy.ops.mesh, operator)(**kwargs)
    obj = bpy.context.active_object
    obj.name = name
    obj.data.materials.append(_material(bpy, name, color))
    return obj


def _build_objects(bpy: Any, scene: Any, start: int, end: int) -> None:
    _add(bpy, "primitive_plane_add", "Ground", (0.6, 0.6, 0.6), size=12.0, location=(0, 0, 0))
    _add(
        bpy,
        "primitive_uv_sphere_add",
        "Sphere",
        (0.8, 0.2, 0.15),
        radius=0.8,
        location=(-1.8, 1.2, 0.8),
        segments=24,
        ring_count=12,
    )
    _add(
        bpy,
        "primitive_cylinder_add",
        "Cylinder",
        (0.15, 0.55, 0.25),
        radius=0.6,
        depth=1.6,
        location=(1.6, 1.8, 0.8),
        vertices=24,
    )
    mover = _add(
        bpy, "primitive_cube_add", "Mover", (0.2, 0.35, 0.9), size=1.0, location=(-2.5, -1.5, 0.5)
    )
    last = max(end, start + 1)
    mover.location = (-2.5, -1.5, 0.5)
    mover.rotation_euler = (0.0, 0.0, 0.0)
    mover.keyframe_insert("location", frame=start)
    mover.keyframe_insert("rotation_euler", frame=start)
    mover.location = (2.5, -1.0, 0.5)
    mover.rotation_euler = (0.0, 0.0, math.radians(180))
    mover.keyframe_insert("location", frame=last)
    mover.keyframe_insert("rotation_euler", frame=last)
    scene.frame_set(start)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m cloud_agent.demo_scene", description="Write a small demo .blend file."
    )
    parser.add_argument("output", help="the .blend file to write")
    parser.add_argument("--frames", default="1-24", help="frame range, e.g. 1-24 (default)")
    parser.add_argument("--resolution", default="320x180", help="WIDTHxHEIGHT (default 320x180)")
    parser.add_argument("--samples", type=int, default=8, help="Cycles samples (default 8)")
    args = parser.parse_args(argv)
    try:
        start, end = parse_frame_range(args.frames)
        width, height = parse_resolution(args.resolution)
    except ValueError as exc:
        parser.error(str(exc))
    if args.samples < 1:
        parser.error("--samples must be 1 or more.")
    try:
        import bpy  # noqa: F401  (checked here to fail with a clear message)
    except ImportError:
        print(
            "Error: writing a demo scene needs the bpy module (pip install 'cloudburst[blender]').",
            file=sys.stderr,
        )
        return 1
    written = write_demo_scene(args.output, start, end, width, height, args.samples)
    print(f"Wrote {written} (frames {start}-{end}, {width}x{height}, {args.samples} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
