"""Offline scene readers: what a scene file reads and writes, without its DCC.

``read_scene(path)`` picks the reader from the file's extension and returns a
``SceneReport``: the scene's facts (``common.host.SceneInfo``), every dependency (missing ones
included, sequences expanded to the frames on disk) and every output. The daemon, the
``cloudburst scan`` command and the tests use it; the DCC plug-ins ask the DCC itself and
share the path rules of ``sequences``.

Readers: Maya ASCII (``.ma``), Nuke (``.nk``), Houdini (``.hip``, ``.hipnc``, ``.hiplc``).
Another package can add one with ``register_reader`` (Blender's lives with its plug-in).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from common.errors import InvalidInput
from common.scene_readers.houdini_report import read_hip
from common.scene_readers.maya_report import read_maya_ascii
from common.scene_readers.nuke_report import read_nuke_script
from common.scene_readers.report import SceneReport

__all__ = ["Reader", "SceneReport", "read_scene", "register_reader", "supported_extensions"]

Reader = Callable[[str, Mapping[str, str] | None], SceneReport]

_READERS: dict[str, Reader] = {
    ".ma": read_maya_ascii,
    ".nk": read_nuke_script,
    ".hip": read_hip,
    ".hipnc": read_hip,
    ".hiplc": read_hip,
}


def register_reader(extension: str, reader: Reader) -> None:
    """Makes ``reader`` the reader of files ending in ``extension`` (``.blend``)."""
    _READERS[extension.lower()] = reader


def supported_extensions() -> list[str]:
    """The extensions ``read_scene`` knows, sorted."""
    return sorted(_READERS)


def read_scene(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> SceneReport:
    """Reads the scene file at ``path`` without its DCC.

    Args:
        path: a ``.ma``, ``.nk``, ``.hip``, ``.hipnc`` or ``.hiplc`` file (or a registered one).
        env: the environment that paths in the scene are expanded with (``os.environ`` when
            None), e.g. ``{"MAYAFILEBASE": "/proj"}`` or ``{"JOB": "/proj"}``.

    Raises:
        InvalidInput: the file is of a kind no reader knows, cannot be read, or is not what its
            extension says; the message says which.
    """
    text = os.fspath(path)
    extension = os.path.splitext(text)[1].lower()
    reader = _READERS.get(extension)
    if reader is None:
        if extension == ".mb":
            raise InvalidInput(
                f"{text} is a Maya binary scene, which cannot be read without Maya. "
                "Save it as Maya ASCII (.ma), or check it from the Maya panel."
            )
        raise InvalidInput(
            f"Cannot read {text}: scenes of kind {extension or '(no extension)'} are not "
            f"known. Known kinds: {', '.join(supported_extensions())}."
        )
    if not os.path.isfile(text):
        raise InvalidInput(f"The scene {text} does not exist.")
    return reader(text, env)
