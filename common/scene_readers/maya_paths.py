"""Where Maya finds a file that is not where the scene says: its file path resolution.

When a reference or a texture is not at the path written in the scene (the scene was saved on
another machine, another drive, another project folder), Maya looks for it again, in order:

1. the path as written (variables expanded); a relative path is relative to the project;
2. the part after Maya's ``//`` project marker (``C:/old/proj//sourceimages/a.png``), under
   the current project;
3. the written path's trailing folders under the project, longest first
   (``D:/jobs/show/sourceimages/wood/a.png`` -> ``<project>/show/sourceimages/wood/a.png``,
   ``<project>/sourceimages/wood/a.png``, then ``<project>/wood/a.png``), drive letters and
   backslashes included;
4. the file's name in the project's folder for its kind (the ``sourceImages`` file rule for
   textures, ``scenes`` for references);
5. the file's name beside the scene that uses it.

The project is the folder holding ``workspace.mel`` above the scene. ``resolve`` returns the
first candidate found, with ``Asset.found_by`` naming the rule (empty for rule 1 with an
absolute path), or the path as written, missing, when none is.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Iterator, Mapping

from common.host import Asset, AssetKind
from common.scene_readers import sequences
from common.scene_readers.maya_ascii import expand_variables

AS_WRITTEN = ""
PROJECT = "project"
PROJECT_MARKER = "project marker //"
PROJECT_TAIL = "project, by the path's last folders"
FILE_RULE = "project file rule"
BESIDE_SCENE = "beside the scene"

#: The workspace file rule a kind of file is looked for under, and its default folder.
_RULES = {
    AssetKind.REFERENCE: ("scene", "scenes"),
    AssetKind.IMAGE: ("sourceImages", "sourceimages"),
    AssetKind.CACHE: ("fileCache", "cache/nCache"),
}


@dataclasses.dataclass(frozen=True)
class Project:
    """A Maya project: its root folder and its ``workspace.mel`` file rules."""

    root: str
    rules: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def at(cls, root: str) -> Project:
        """The project at ``root``, with the file rules its ``workspace.mel`` sets."""
        try:
            with open(os.path.join(root, "workspace.mel"), encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            text = ""
        rules = dict(re.findall(r'workspace\s+-fr\s+"([^"]+)"\s+"([^"]*)"', text))
        return cls(root, rules)

    def folder(self, rule: str, default: str) -> str:
        """The folder of a file rule (``images``, ``sourceImages``), under the root."""
        return os.path.normpath(os.path.join(self.root, self.rules.get(rule) or default))


def _parts(path: str) -> list[str]:
    """The folders and name of a path written on any OS, without drive or share."""
    text = path.replace("\\", "/")
    text = re.sub(r"^[A-Za-z]:", "", text)
    return [p for p in text.split("/") if p and p != "."]


def candidates(
    written: str, kind: AssetKind, project: Project, scene_path: str, env: Mapping[str, str]
) -> Iterator[tuple[str, str]]:
    """``(rule, path)`` in the order Maya tries them."""
    path = expand_variables(written, env)
    windows = sequences.is_windows_path(path)
    if windows or path.startswith(("$", "%")):
        yield AS_WRITTEN, path
    elif os.path.isabs(path):
        yield AS_WRITTEN, os.path.normpath(path)
    else:
        yield PROJECT, os.path.normpath(os.path.join(project.root, path))
    unified = path.replace("\\", "/")
    marker = unified.find("//", 2 if unified.startswith("//") else 0)
    if marker >= 0 and unified[marker + 2 :]:
        yield PROJECT_MARKER, os.path.join(project.root, *_parts(unified[marker + 2 :]))
    parts = _parts(path)
    for start in range(1, len(parts) - 1):
        yield PROJECT_TAIL, os.path.join(project.root, *parts[start:])
    if parts:
        rule, default = _RULES.get(kind, ("", ""))
        if rule:
            yield f"{FILE_RULE} ({rule})", os.path.join(project.folder(rule, default), parts[-1])
        if scene_path:
            yield BESIDE_SCENE, os.path.join(os.path.dirname(scene_path), parts[-1])


def resolve(
    written: str,
    kind: AssetKind,
    *,
    project: Project,
    scene_path: str,
    env: Mapping[str, str],
    frames: Iterable[int] = (),
    source: str = "",
    probed: list[str] | None = None,
) -> Asset:
    """The dependency ``written`` (a path, a sequence or a tile set) where Maya finds it.

    Args:
        written: the path as the scene holds it.
        kind: what it is (a reference, an image, a cache); picks the file rule to look under.
        project: the project of the scene being read.
        scene_path: the scene that uses it (the file's name is looked for beside it).
        env: the variables paths are expanded with.
        frames: the frames of a sequence.
        source: where in the scene it is used.
        probed: the places looked in before the one that found it (all of them when
            none did) are appended, for a cache to watch.
    """
    frames = tuple(frames)
    first: Asset | None = None
    partial: Asset | None = None
    seen: set[str] = set()
    for rule, path in candidates(written, kind, project, scene_path, env):
        if path in seen:
            continue
        seen.add(path)
        asset = sequences.dependency(path, kind, frames=frames, source=source)
        if asset.exists:
            return dataclasses.replace(asset, found_by=rule)
        if probed is not None:
            probed.append(path)
        if first is None:
            first = asset
        if partial is None and asset.files:
            partial = dataclasses.replace(asset, found_by=rule)
    assert first is not None  # candidates() always yields the path as written
    return partial or first
