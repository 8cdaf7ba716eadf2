"""Cloudburst's Blender add-on: Render > Submit to Cloudburst... opens the shared submit panel.

``bl_info``, ``register()`` and ``unregister()`` make this package a Blender add-on. Nothing
here imports ``bpy`` at import time, so ``dcc.blender.dependencies`` (Blender Asset Tracer,
no ``bpy``) is usable outside Blender; ``addon.py`` holds the operator and the menu entry.
"""

from __future__ import annotations

bl_info = {
    "name": "Cloudburst Submitter",
    "author": "Cloudburst",
    "version": (0, 1, 0),
    "blender": (4, 2, 0),
    "location": "Render > Submit to Cloudburst...",
    "description": "Submit the open scene to the Cloudburst render farm",
    "category": "Render",
}


def register() -> None:
    """Registers the operator and adds the Render menu entry (Blender's main thread)."""
    from dcc.blender import addon

    addon.register()


def unregister() -> None:
    """Removes the menu entry, the operator and the Qt event timer."""
    from dcc.blender import addon

    addon.unregister()
