"""The form of a studio path: absolute (POSIX, a Windows drive or a UNC share), normalised and
free of control characters. Pure, and below the settings, which check their roots with it;
``common.job_paths`` adds the studio's roots.
"""

from __future__ import annotations

import re

from common.data.pathmap import split_path

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEPARATORS = re.compile(r"[\\/]")
#: Length of the anchor (``/``, ``P:\\``, ``\\\\``) of an absolute path of each family.
_ANCHORS = {"posix": 1, "drive": 3, "unc": 2}


def path_problem(path: str, *, folder: bool = False) -> str | None:
    """Why ``path`` is not an absolute, normalised studio path, as the end of a sentence
    ("... is not absolute"); None when it is one.

    Args:
        path: the path.
        folder: a trailing separator is allowed (a folder of frames, a root).
    """
    family, _ = split_path(path)
    if family == "relative" and not _CONTROL.search(path):
        return (
            "is not absolute; give the full path (/..., P:\\... or \\\\server\\share\\...), "
            "as it is seen from the studio's workstations"
        )
    return _components_problem(path[_ANCHORS.get(family, 0) :], folder=folder)


def output_problem(output: str) -> str | None:
    """Why ``output`` cannot be a job's output pattern; None when it can.

    Besides absolute paths, ``//`` followed by a normalised relative path is accepted: Blender's
    "next to the scene", which the whole farm reads that way (a UNC output is written with
    backslashes).
    """
    if output.startswith("//"):
        return _components_problem(output[2:], folder=True)
    return path_problem(output, folder=True)


def _components_problem(rest: str, *, folder: bool) -> str | None:
    """What is wrong with the part of a path below its anchor."""
    if _CONTROL.search(rest):
        return "holds a NUL or another control character; give the path without it"
    parts = _SEPARATORS.split(rest)
    if folder and parts[-1] == "":  # a folder: its trailing separator, or the anchor alone
        parts.pop()
    if ".." in parts:
        return "climbs out of its folder with '..'; give the path without it"
    if "" in parts or "." in parts:
        return "is not normalised (it has an empty or '.' component); give it without them"
    return None
