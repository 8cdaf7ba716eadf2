"""A small facade over ``bpy`` for the submitter: the only module of ours that imports ``bpy``.

Every function reads or acts on the open file's active scene and must run on Blender's main
thread (``bpy`` is not thread-safe). Values come back as plain Python types.
"""

from __future__ import annotations

import os

import bpy

#: Datablock collections whose items name files, the asset kind, and the word for them.
_FILE_BLOCKS = (
    ("images", "image", "Image"),
    ("movieclips", "image", "Movie clip"),
    ("sounds", "audio", "Sound"),
    ("fonts", "font", "Font"),
    ("cache_files", "cache", "Cache file"),
    ("volumes", "cache", "Volume"),
)

#: Blender's engine identifiers, as the farm names renderers.
_ENGINES = {
    "CYCLES": "cycles",
    "BLENDER_EEVEE": "eevee",
    "BLENDER_EEVEE_NEXT": "eevee",
    "BLENDER_WORKBENCH": "workbench",
}


def file_path() -> str:
    """The open .blend file's absolute path; ``""`` for a file never saved."""
    path: str = bpy.data.filepath
    return os.path.abspath(path) if path else ""


def is_dirty() -> bool:
    """Whether the open file has changes that are not saved.

    Without a UI (``blender -b``, the ``bpy`` module) Blender reports every file as modified,
    even right after a save, and no artist edits it: there it counts as saved.
    """
    if bpy.app.background:
        return False
    return bool(bpy.data.is_dirty)


def save() -> None:
    """Saves the open file in place (it must have been saved once before).

    Raises:
        RuntimeError: Blender could not write the file.
    """
    result = bpy.ops.wm.save_mainfile()
    if "FINISHED" not in result:
        raise RuntimeError(f"Blender did not save the file ({', '.join(result)}).")


def frame_range() -> tuple[int, int, int]:
    """The scene's first frame, last frame and step."""
    scene = bpy.context.scene
    return scene.frame_start, scene.frame_end, scene.frame_step


def fps() -> float:
    """Frames per second (``fps / fps_base``, so 23.976 comes out right)."""
    render = bpy.context.scene.render
    return float(render.fps) / float(render.fps_base or 1.0)


def engine() -> str:
    """The render engine as the farm names it: ``cycles``, ``eevee``, ``workbench``..."""
    identifier: str = bpy.context.scene.render.engine
    return _ENGINES.get(identifier, identifier.lower())


def resolution() -> tuple[int, int]:
    """The rendered size in pixels, after the resolution percentage."""
    render = bpy.context.scene.render
    scale = render.resolution_percentage / 100.0
    return round(render.resolution_x * scale), round(render.resolution_y * scale)


def view_layers() -> list[tuple[str, bool]]:
    """Each view layer's name and whether it renders (``use``)."""
    return [(layer.name, bool(layer.use)) for layer in bpy.context.scene.view_layers]


def active_camera() -> str:
    """The scene camera's name; ``""`` when the scene has none."""
    camera = bpy.context.scene.camera
    return camera.name if camera is not None else ""


def cameras() -> list[str]:
    """Names of the camera objects in the scene, sorted."""
    return sorted(obj.name for obj in bpy.context.scene.objects if obj.type == "CAMERA")


def output_path() -> str:
    """The output path as written in the scene (``//`` is the .blend's folder)."""
    path: str = bpy.context.scene.render.filepath
    return path


def output_format() -> str:
    """The image format identifier (``PNG``, ``OPEN_EXR``, ``FFMPEG``...)."""
    settings = bpy.context.scene.render.image_settings
    if getattr(settings, "media_type", "IMAGE") == "VIDEO":
        return "FFMPEG"
    fmt: str = settings.file_format
    return fmt


def udim_tiles() -> dict[str, list[int]]:
    """For each tiled (UDIM) image: its absolute path with ``<UDIM>`` and the tiles it has.

    Blender knows which tiles an image should have; the files on disk may lack some.
    """
    tiles: dict[str, list[int]] = {}
    for image in bpy.data.images:
        if image.source != "TILED" or image.packed_file is not None:
            continue
        path = bpy.path.abspath(image.filepath, library=image.library)
        tiles[os.path.normpath(path)] = sorted(tile.number for tile in image.tiles)
    return tiles


def linked_files() -> list[tuple[str, str, bool, str]]:
    """Files used by datablocks linked from libraries, as loaded now.

    Returns:
        ``(absolute path, asset kind, is a sequence or tile set, where used)`` for each image,
        movie clip, sound, font, cache file and volume that comes from a library and is not
        packed.
    """
    found = []
    for collection, kind, label in _FILE_BLOCKS:
        for block in getattr(bpy.data, collection):
            if block.library is None or getattr(block, "packed_file", None) is not None:
                continue
            if getattr(block, "source", "FILE") in ("GENERATED", "VIEWER"):
                continue
            filepath = getattr(block, "filepath", "")
            if not filepath or filepath == "<builtin>":
                continue
            path = os.path.normpath(bpy.path.abspath(filepath, library=block.library))
            sequence = getattr(block, "source", "") in ("SEQUENCE", "TILED") or bool(
                getattr(block, "is_sequence", False)
            )
            library = os.path.basename(block.library.filepath)
            found.append((path, kind, sequence, f"{label} {block.name!r} from {library}"))
    return found
