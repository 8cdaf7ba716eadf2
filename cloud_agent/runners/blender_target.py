"""Renders the view layer and camera chosen in the panel. Runs INSIDE Blender.

``blender -b scene.blend --python-exit-code 1 --python blender_target.py -o ... -a``: Blender
(or ``cloudburst-blender``) has loaded the scene (and ``blender_remap.py`` has repointed its
files), and this script runs before the render. It reads the panel's choices from the task's
environment:

* ``$CLOUDBURST_RENDER_TARGET``, a view layer of the scene: that layer alone renders (every
  other layer's ``use`` is turned off; ``use_single_layer`` is not enough, since without a
  window Blender's "active" layer is not the chosen one);
* ``$CLOUDBURST_CAMERA``, a camera object of the scene: it becomes ``scene.camera``, and
  timeline markers bound to cameras are unbound, since they would switch the camera back
  during the animation.

A name the scene does not have ends Blender with exit code 1 before anything renders, with a
line ``Error: [cloudburst] ...`` that names what the scene has: a wrong layer or camera
renders a wrong picture without Blender failing. Nothing is saved: only the open copy changes.

Only ``bpy``, ``os`` and ``sys`` are imported: real Blender's Python does not have Cloudburst's
packages. The names of the two variables are those of ``common.jobspec``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is never imported when Blender runs this file
if TYPE_CHECKING:
    from typing import Any

TARGET_ENV = "CLOUDBURST_RENDER_TARGET"
CAMERA_ENV = "CLOUDBURST_CAMERA"
TAG = "[cloudburst]"


class Refused(Exception):
    """The scene has no such view layer or camera."""


def say(text: str) -> None:
    print(f"{TAG} {text}", flush=True)


def _known(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names) or "none"


def choose_layer(scene: Any, name: str) -> None:
    """Makes ``name`` the only view layer of ``scene`` that renders.

    Raises:
        Refused: the scene has no view layer called ``name``.
    """
    layers = list(scene.view_layers)
    if not any(layer.name == name for layer in layers):
        raise Refused(
            f"the scene {scene.name!r} has no view layer {name!r} (it has: "
            f"{_known([layer.name for layer in layers])}). Pick one of them in the panel."
        )
    for layer in layers:
        layer.use = layer.name == name
    scene.render.use_single_layer = False  # every layer with ``use`` on: the chosen one only
    say(f"rendering view layer {name!r} only")


def choose_camera(scene: Any, name: str) -> None:
    """Makes the camera object ``name`` the scene's camera for every frame.

    Raises:
        Refused: the scene has no camera object called ``name``.
    """
    cameras = [obj for obj in scene.objects if obj.type == "CAMERA"]
    camera = next((obj for obj in cameras if obj.name == name), None)
    if camera is None:
        raise Refused(
            f"the scene {scene.name!r} has no camera {name!r} (it has: "
            f"{_known(sorted(obj.name for obj in cameras))}). Pick one of them in the panel."
        )
    scene.camera = camera
    unbound = 0
    for marker in scene.timeline_markers:
        if marker.camera is not None:
            marker.camera = None
            unbound += 1
    if unbound:
        say(f"{unbound} timeline marker(s) no longer switch cameras")
    say(f"rendering through camera {name!r}")


def main() -> int:
    """Applies the choices to the open scene; returns the exit code (1: a name is unknown)."""
    import bpy

    scene = bpy.context.scene
    layer = os.environ.get(TARGET_ENV, "")
    camera = os.environ.get(CAMERA_ENV, "")
    try:
        if layer:
            choose_layer(scene, layer)
        if camera:
            choose_camera(scene, camera)
    except Refused as exc:
        print(f"Error: {TAG} {exc} Not rendering: the picture would be wrong.", flush=True)
        return 1
    return 0


def run() -> None:
    """The script's entry point: exits Blender on failure, returns to let it render."""
    try:
        code = main()
    except Exception as exc:  # A bug here must not let a wrong picture render.
        sys.excepthook(type(exc), exc, exc.__traceback__)
        print(f"Error: {TAG} choosing the view layer and camera failed: {exc!r}", flush=True)
        code = 1
    if code:
        sys.exit(code)  # Ends Blender before it renders; 0 must not exit, the render follows.


if __name__ == "__main__":
    run()
