"""The HDA libraries a Houdini scene uses, as the scene records them.

A render needs the definition of every digital asset (HDA) type the scene uses. The scene
file records where they came from in two members:

* ``.OPlibraries``: libraries installed with the scene itself (one path a line);
* ``.OPfallbacks``: for each operator type the scene uses, the library it was loaded from
  (``qLib::Sop/twist_ql::1 /home/tusi/otls/twist_ql_SOP.otl``), the absolute path first and
  the path relative to the ``HOUDINI_PATH`` entry it was found under after it
  (``qLib::Sop/twist_ql::1 otls/twist_ql_SOP.otl``); the relative lines name the same file.

Libraries that ship with Houdini (``$HFS/houdini/otls``: ``OPlibSop.hda`` and the like) are on
every machine with Houdini and are not dependencies.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class HdaLibrary:
    """A library file the scene uses; ``types`` are the operator types loaded from it (none
    for a library installed with the scene)."""

    path: str
    types: tuple[str, ...] = ()


def _absolute(path: str) -> bool:
    return path.startswith(("/", "$", "\\\\")) or bool(re.match(r"[A-Za-z]:[/\\]", path))


def recorded_libraries(installed: str, fallbacks: str) -> list[HdaLibrary]:
    """The libraries named by the ``.OPlibraries`` and ``.OPfallbacks`` members, each once,
    in the order first named; relative fallback lines (alternates of the absolute ones) are
    left out."""
    types: dict[str, list[str]] = {}
    for line in installed.splitlines():
        if line.strip():
            types.setdefault(line.strip(), [])
    for line in fallbacks.splitlines():
        optype, _, path = line.strip().partition(" ")
        path = path.strip()
        if path and _absolute(path):
            types.setdefault(path, [])
            if optype not in types[path]:
                types[path].append(optype)
    return [HdaLibrary(path, tuple(names)) for path, names in types.items()]


_INSTALL = re.compile(r"(?i)^(hfs.*|houdini[ _-]?\d.*)$")


def ships_with_houdini(path: str, hfs: str = "") -> bool:
    """Whether ``path`` is a library of the Houdini install: under ``hfs`` (``$HFS``) when
    known, else ``<install>/houdini/otls/<library>`` where the install folder is named like
    ``hfs19.5.368`` or ``Houdini 20.0.547``, or a stock ``OPlib*`` library."""
    unified = path.replace("\\", "/")
    if unified.startswith(("$HFS/", "${HFS}/", "$HH/", "${HH}/")):
        return True
    if hfs and unified.startswith(hfs.replace("\\", "/").rstrip("/") + "/"):
        return True
    parts = unified.split("/")
    if len(parts) >= 4 and parts[-3:-1] == ["houdini", "otls"]:
        return _INSTALL.match(parts[-4]) is not None or parts[-1].startswith("OPlib")
    return os.path.basename(unified).startswith("OPlib") and "/otls/" in unified
