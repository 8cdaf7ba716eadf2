"""Scene readers other packages provide, found through the ``cloudburst.scene_readers`` entry
points (the ``.blend`` reader lives with the Blender plug-in: ``dcc.blender.offline``)."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from common.errors import InvalidInput
from common.scene_readers import Reader, read_scene

READER_GROUP = "cloudburst.scene_readers"
#: What to install when a plug-in reader cannot be imported, by extension.
PLUGIN_EXTRAS = {".blend": "pip install 'cloudburst[gui]' (Blender Asset Tracer, zstandard)"}


def plugin_readers() -> dict[str, EntryPoint]:
    """Readers other packages register (``cloudburst.scene_readers``), by file extension."""
    return {ep.name.lower(): ep for ep in entry_points(group=READER_GROUP)}


def reader_for(scene: Path) -> Reader:
    """The reader of ``scene``'s kind.

    Raises:
        InvalidInput: the plug-in reader of that kind cannot be imported (says what to install).
    """
    extension = scene.suffix.lower()
    entry_point = plugin_readers().get(extension)
    if entry_point is None:
        return read_scene  # which says which kinds it knows when it knows not this one
    try:
        reader: Reader = entry_point.load()
    except ImportError as exc:
        fix = PLUGIN_EXTRAS.get(extension, "reinstall Cloudburst with its extras")
        message = f"Reading {extension} files needs what is missing ({exc}): {fix}."
        raise InvalidInput(message) from exc
    return reader
