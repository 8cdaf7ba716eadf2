"""Where a job's frames belong on studio storage, in the studio's own path form.

A node away from studio storage names each frame it uploads by its studio path (the output
folder of the job + the file name), and the daemon writes a frame home only inside that folder,
so an agent can never make the daemon write anywhere else. Blender's ``//`` prefix is the
scene's folder. Windows and UNC paths are handled with ``ntpath``, others with ``posixpath``,
whatever platform this code runs on.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from types import ModuleType

from common.path_forms import path_problem

_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|[\\/]{2}[^\\/])")


def _flavour(path: str) -> ModuleType:
    return ntpath if _WINDOWS.match(path) else posixpath


def output_folder(output: str, scene: str) -> str:
    """The folder a job's frames go to (``output`` is a pattern, or a folder ending in a slash)."""
    relative = output.startswith("//")
    flavour = _flavour(scene if relative else output)
    path = flavour.join(flavour.dirname(scene), output[2:]) if relative else output
    if output.endswith(("/", "\\")):
        return str(flavour.normpath(path))
    return str(flavour.dirname(flavour.normpath(path)))


def studio_frame_path(output: str, scene: str, file_name: str) -> str:
    """The studio path of a frame file named ``file_name`` that a job wrote."""
    folder = output_folder(output, scene)
    return str(_flavour(folder).join(folder, file_name))


def is_frame_of(path: str, output: str, scene: str) -> bool:
    """Whether ``path`` names a file directly inside the job's output folder.

    The path must say so as written: absolute and normalised (``common.path_forms``: no
    ``.``, ``..`` or empty component, no control character).
    """
    if path_problem(path) is not None:
        return False
    folder = output_folder(output, scene)
    flavour = _flavour(folder)
    name = flavour.basename(path)
    if name in ("", ".", "..") or "/" in name or "\\" in name:
        return False
    return bool(flavour.normpath(path) == flavour.join(folder, name))
