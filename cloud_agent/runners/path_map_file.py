"""The path-map file: where a job's studio paths are on this render node, for DCCs to read.

A node without studio storage renders from a workspace (``cloud_agent.cache.workspace``). Text
scenes are rewritten there, but binary scenes (``.blend``, ``.mb``, ``.hip``) keep the studio
paths written inside them, so the DCC must repoint them when it opens the scene. The agent
writes this file into the workspace and names it in the render's environment as
``CLOUDBURST_PATH_MAP``; the runners turn it into what each DCC understands (Blender:
``blender_remap.py``; Houdini: ``HOUDINI_PATHMAP``; Maya: ``dirmap``).

The format (JSON, UTF-8), the one place it is described::

    {
      "version": 1,
      "scene": "/mnt/studio/show/shots/sh010.blend",
      "files": {"/mnt/studio/show/tex/a.png": "/ws/studio/show/tex/a.png", ...},
      "rules": [["/mnt/studio", "/ws/studio"], ["P:/", "/ws/studio"], ...]
    }

* ``scene``: the studio path of the scene being rendered (absent or null when unknown). Paths
  relative to the scene (Blender's ``//tex/a.png``) are resolved against it, not against the
  workspace copy.
* ``files``: each file of the job's manifest, as the scene names it (absolute, any platform's
  form) -> its local path. Looked up first.
* ``rules``: ``[studio prefix, local prefix]`` pairs, the fallback for paths written another way
  than the manifest's (another frame of a sequence, a UDIM ``<UDIM>`` pattern). The longest
  matching prefix wins; a prefix matches whole components only (``/mnt/studio2`` is not under
  ``/mnt/studio``).

Paths are compared normalised: ``\\`` read as ``/``, repeated separators and ``.``/``..``
components collapsed, trailing separators dropped; Windows paths (``P:/...`` and UNC
``//server/share/...``) compare without regard to case, as ``common.data.pathmap`` does.
Readers ignore keys they do not know. ``blender_remap.py`` holds a copy of ``lookup`` (Blender's
own Python cannot import this package); a test keeps the two in step.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from common.data.pathmap import PathMapping, Platform
from common.errors import RenderError

if TYPE_CHECKING:
    from cloud_agent.cache.workspace import Workspace

#: The environment variable that names the path-map file of a render.
PATH_MAP_ENV = "CLOUDBURST_PATH_MAP"
#: The file's name inside a workspace.
FILE_NAME = "cloudburst-path-map.json"
FORMAT_VERSION = 1

_DRIVE = re.compile(r"^[A-Za-z]:")


def split_path(path: str) -> tuple[str, list[str]]:
    """``(anchor, components)`` of a normalised path.

    The anchor is ``"/"`` (POSIX), ``"C:"`` (a drive, upper case), ``"//"`` (UNC) or ``""``
    (relative). ``.`` components are dropped and ``..`` removes the one before it (never the
    anchor).
    """
    text = path.replace("\\", "/")
    if text.startswith("//"):
        anchor, rest = "//", text[2:]
    elif _DRIVE.match(text):
        anchor, rest = text[0].upper() + ":", text[2:]
    elif text.startswith("/"):
        anchor, rest = "/", text
    else:
        anchor, rest = "", text
    parts: list[str] = []
    for part in rest.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part != ".." or not anchor:
            parts.append(part)
    return anchor, parts


def normalise(path: str) -> str:
    """``path`` with ``/`` separators, no redundant components and an upper-case drive."""
    anchor, parts = split_path(path)
    if anchor == "/":
        return "/" + "/".join(parts)
    if anchor.endswith(":"):
        return anchor + "/" + "/".join(parts)
    return anchor + "/".join(parts)


def _key(anchor: str, parts: list[str]) -> tuple[str, ...]:
    """Components as compared: Windows forms (drive, UNC) without regard to case."""
    if anchor in ("/", ""):
        return (anchor, *parts)
    return (anchor, *(part.casefold() for part in parts))


@dataclass(frozen=True)
class PathMap:
    """The contents of a path-map file (see the module's docstring)."""

    scene: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[tuple[str, str], ...] = ()
    _index: dict[tuple[str, ...], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", index_files(self.files))

    def lookup(self, path: str) -> str | None:
        """The local path of a studio path: its ``files`` entry, else the longest rule's.

        Returns:
            The local path, or None when neither a file entry nor a rule covers ``path``.
        """
        return lookup(path, self._index, self.rules)

    def to_json(self) -> dict[str, object]:
        """The file's JSON object."""
        return {
            "version": FORMAT_VERSION,
            "scene": self.scene,
            "files": dict(self.files),
            "rules": [list(rule) for rule in self.rules],
        }


def index_files(files: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """The ``files`` table keyed by normalised components, for ``lookup``."""
    return {_key(*split_path(studio)): local for studio, local in files.items()}


def lookup(
    path: str, files: Mapping[tuple[str, ...], str], rules: Iterable[tuple[str, str]]
) -> str | None:
    """The local path of ``path`` through an indexed ``files`` table and prefix ``rules``.

    Exact file entries win; then the rule with the longest studio prefix that holds ``path``
    (whole components). The part of ``path`` below the prefix is appended to the local prefix
    with ``/`` (``\\`` when the local prefix is written with it).

    Args:
        path: an absolute path, in any platform's form.
        files: ``index_files`` of the file entries.
        rules: ``(studio prefix, local prefix)`` pairs.
    """
    anchor, parts = split_path(path)
    key = _key(anchor, parts)
    if key in files:
        return files[key]
    best: tuple[int, str] | None = None
    for studio, local in rules:
        rule_key = _key(*split_path(studio))
        if key[: len(rule_key)] == rule_key and (best is None or len(rule_key) > best[0]):
            best = (len(rule_key), local)
    if best is None:
        return None
    length, local = best
    rest = parts[length - 1 :]
    if not rest:
        return local
    separator = "\\" if "\\" in local else "/"
    return local.rstrip("/\\") + separator + separator.join(rest)


def write_path_map(path: str | os.PathLike[str], path_map: PathMap) -> str:
    """Writes ``path_map`` to ``path`` atomically (a reader never sees half a file).

    Returns:
        The absolute path written: the value for ``CLOUDBURST_PATH_MAP``.
    """
    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".path-map-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(path_map.to_json(), stream, indent=1, sort_keys=True)
            stream.write("\n")
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def read_path_map(path: str | os.PathLike[str]) -> PathMap:
    """Reads a path-map file.

    Raises:
        RenderError: the file cannot be read or is not a path map.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except OSError as exc:
        raise RenderError(
            f"Cannot read the path map {os.fspath(path)} ({PATH_MAP_ENV}): {exc.strerror or exc}"
        ) from None
    except ValueError as exc:
        raise RenderError(f"The path map {os.fspath(path)} is not valid JSON: {exc}") from None
    problem = _problem(data)
    if problem:
        raise RenderError(f"The path map {os.fspath(path)} is malformed: {problem}.")
    return PathMap(
        scene=data.get("scene"),
        files=dict(data.get("files") or {}),
        rules=tuple((studio, local) for studio, local in data.get("rules") or ()),
    )


def _problem(data: object) -> str | None:
    if not isinstance(data, dict):
        return "it is not a JSON object"
    scene = data.get("scene")
    if scene is not None and not isinstance(scene, str):
        return '"scene" is not a string'
    files = data.get("files") or {}
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        return '"files" is not an object of path strings'
    rules = data.get("rules") or []
    if not isinstance(rules, list) or not all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(p, str) for p in r) for r in rules
    ):
        return '"rules" is not a list of [studio prefix, local prefix] pairs'
    return None


# --- the agent's side ------------------------------------------------------------------------


def workspace_rules(
    mapping: PathMapping, root: str | os.PathLike[str], platform: Platform
) -> list[tuple[str, str]]:
    """Each studio root of the farm's table (every platform's form) -> its workspace folder.

    This is where ``Workspace.local_path`` puts a rule's files: ``<root>/<rule name>``.
    """
    separator = "\\" if platform in (Platform.WINDOWS, Platform.UNC) else "/"
    base = os.fspath(root).rstrip("/\\")
    rules = []
    for rule in mapping.rules:
        local = f"{base}{separator}{rule.name}"
        for form in Platform:
            studio = rule.root(form)
            if studio is not None and (studio, local) not in rules:
                rules.append((studio, local))
    return rules


def write_workspace_path_map(
    workspace: Workspace, mapping: PathMapping, studio_paths: Iterable[str], scene: str
) -> str:
    """Writes ``<workspace>/cloudburst-path-map.json`` for one task (the agent calls this).

    Args:
        workspace: the laid-out workspace of the job.
        mapping: the farm's path-mapping table (not rebased), as given to ``Workspace``.
        studio_paths: the paths of the job's manifest entries (``entry.path``).
        scene: the scene's studio path (``assignment.scene`` before mapping).

    Returns:
        The file's path: put it in the render's environment as ``CLOUDBURST_PATH_MAP``.
    """
    files = {path: workspace.local_path(path) for path in studio_paths}
    rules = workspace_rules(mapping, workspace.root, workspace.platform)
    path_map = PathMap(scene=scene, files=files, rules=tuple(rules))
    return write_path_map(Path(workspace.root) / FILE_NAME, path_map)
