"""A Blender scene that renders another job's frames: frame N shows that job's frame N (as an
image sequence on a plane that fills the camera), tinted, so its frames differ from them.

``python -m tests.e2e.chain_scene OUT.blend FIRST_FRAME_PATH START END`` (needs ``bpy``).
"""

from __future__ import annotations

import os
import sys


def write_chain_scene(path: str, first_frame: str, start: int, end: int) -> None:
    """Saves the scene at ``path``; ``first_frame`` is the upstream's frame ``start`` file
    (it need not exist yet: Blender reads each frame when it renders it)."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = start, end
    scene.render.engine = "CYCLES"
    scene.render.resolution_x, scene.render.resolution_y = 64, 36
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 1
    scene.cycles.use_denoising = False
    scene.view_settings.view_transform = "Standard"

    image = bpy.data.images.new("upstream", 64, 36)
    image.source = "SEQUENCE"
    image.filepath = first_frame
    material = bpy.data.materials.new("shown")
    if material.node_tree is None:  # before Blender 5, node trees had to be asked for
        material.use_nodes = True
    nodes, links = material.node_tree.nodes, material.node_tree.links
    nodes.clear()
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = image
    texture.image_user.frame_start = start
    texture.image_user.frame_offset = start - 1
    texture.image_user.frame_duration = end - start + 1
    texture.image_user.use_auto_refresh = True
    tint = nodes.new("ShaderNodeMix")
    tint.data_type = "RGBA"
    tint.blend_type = "MULTIPLY"
    tint.inputs["Factor"].default_value = 1.0
    tint.inputs["B"].default_value = (1.0, 0.2, 0.2, 1.0)
    emission = nodes.new("ShaderNodeEmission")
    output = nodes.new("ShaderNodeOutputMaterial")
    links.new(texture.outputs["Color"], tint.inputs["A"])
    links.new(tint.outputs["Result"], emission.inputs["Color"])
    links.new(emission.outputs["Emission"], output.inputs["Surface"])

    bpy.ops.mesh.primitive_plane_add(size=2.0)
    plane = bpy.context.active_object
    plane.scale = (16 / 9, 1.0, 1.0)
    plane.data.materials.append(material)
    camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    camera.data.type = "ORTHO"
    camera.data.ortho_scale = 2 * 16 / 9
    camera.location = (0.0, 0.0, 2.0)
    scene.collection.objects.link(camera)
    scene.camera = camera
    bpy.ops.wm.save_as_mainfile(filepath=os.path.abspath(path), compress=False)


if __name__ == "__main__":
    write_chain_scene(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
