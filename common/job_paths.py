"""Where a job may read its scene and write its frames: the rules every submission obeys.

A job's ``scene`` and ``output`` are studio paths written the way the submitting workstation
names them: POSIX (``/mnt/studio/show/sh010.blend``), a Windows drive (``P:\\show\\sh010.ma`` or
``P:/show/sh010.ma``) or a UNC share (``\\\\fs01\\projects\\show\\sh010.nk``); render nodes map
them to their own form through ``[[path_rules]]``. Each path must be:

* absolute in one of those forms; an output may also start with ``//``, Blender's "next to the
  scene", as the whole farm reads it (so a UNC output is written with backslashes);
* normalised: no empty, ``.`` or ``..`` component (an output may end with a separator: a folder
  of frames named by their number);
* free of NUL and other control characters;
* inside one of the studio's roots (``[paths] scene_roots``, ``output_roots``) when it lists
  any. A root and a path match in any of the forms the path rules relate, so ``P:\\show`` is
  inside the root ``/mnt/studio`` when a rule names ``P:\\`` and ``/mnt/studio``. When either
  side is written in a Windows form, case does not count (nor slash direction), as the share
  reads it; two POSIX forms compare exactly;
* and an output folder is never inside a private folder (the daemon's data folder, with its
  keys and database).

The daemon applies them when a job is submitted and again to each frame file it accepts and
serves; render nodes apply them before they render (with their own ``[paths]``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from common.data.outputs import output_folder
from common.data.pathmap import PathMapping, PathRule, Platform, split_path
from common.errors import InvalidPath, PathNotAllowed
from common.path_forms import output_problem, path_problem

if TYPE_CHECKING:
    from common.config import Settings

_WINDOWS_FAMILIES = frozenset({"drive", "unc"})
#: Platforms whose form a root of each family is written in.
_PLATFORMS = {
    "drive": (Platform.WINDOWS,),
    "unc": (Platform.UNC,),
    "posix": (Platform.LINUX, Platform.MACOS),
}


def is_inside(path: str, root: str, mapping: PathMapping | None = None) -> bool:
    """Whether ``path`` is ``root`` or below it, in root's form or any the path rules relate.

    Both must be absolute and normalised (``path_problem`` is None). When either is written
    in a Windows form, case does not count (Windows reads the share that way).
    """
    root_family, root_parts = split_path(root)
    path_family, _ = split_path(path)
    fold = _WINDOWS_FAMILIES & {root_family, path_family}
    forms = [path]
    if mapping is not None:
        forms += [m for p in _PLATFORMS.get(root_family, ()) if (m := mapping.map(path, p))]
    for form in forms:
        family, parts = split_path(form)
        if family == root_family and _key(parts, fold)[: len(root_parts)] == _key(root_parts, fold):
            return True
    return False


def _key(parts: Sequence[str], fold: object) -> tuple[str, ...]:
    return tuple(p.casefold() for p in parts) if fold else tuple(parts)


@dataclass(frozen=True)
class JobPaths:
    """The rules above with one studio's roots; pure but for ``from_settings``."""

    scene_roots: tuple[str, ...] = ()
    """Empty: a scene may be anywhere (any absolute path)."""
    output_roots: tuple[str, ...] = ()
    """Empty: frames may go anywhere (any absolute path) but into a private folder."""
    asset_roots: tuple[str, ...] = ()
    """Empty: a scene may take any file out of the building but one in a private folder."""
    rules: tuple[PathRule, ...] = ()
    private: tuple[str, ...] = ()
    """Folders no job writes into, in this machine's form."""
    mapping: PathMapping = field(init=False, repr=False, compare=False)
    """The path rules as a table (made from ``rules``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "mapping", PathMapping(self.rules))

    @classmethod
    def from_settings(cls, settings: Settings, *, private: Iterable[Path] = ()) -> JobPaths:
        """The rules of ``settings`` (``[paths]``, ``[[path_rules]]``); each ``private`` folder
        is closed, and each output root open, both as written and as it really is on this
        machine (links resolved), so a file's real location can be checked too."""
        closed: list[str] = []
        for folder in private:
            absolute = str(folder.expanduser().absolute())
            closed += [absolute, os.path.realpath(absolute)]
        roots = settings.paths.output_roots
        real_roots = [os.path.realpath(root) for root in roots if root[:1] == "/"]
        return cls(
            scene_roots=tuple(settings.paths.scene_roots),
            output_roots=tuple(dict.fromkeys([*roots, *real_roots])),
            asset_roots=tuple(settings.paths.asset_roots),
            rules=tuple(settings.path_rules),
            private=tuple(dict.fromkeys(closed)),
        )

    def check(self, scene: str, output: str) -> None:
        """Checks a job's scene and output.

        Raises:
            InvalidPath: a path is relative, not normalised, or holds a control character.
            PathNotAllowed: a path lies outside the studio's roots, or the output in a
                private folder.
        """
        problem = path_problem(scene)
        if problem is not None:
            raise InvalidPath(f"The scene path {scene!r} {problem}.")
        problem = output_problem(output)
        if problem is not None:
            raise InvalidPath(f"The output path {output!r} {problem}.")
        if not self._within(scene, self.scene_roots):
            raise PathNotAllowed(
                f"The scene {scene} is outside the folders this studio renders scenes from "
                f"({', '.join(self.scene_roots)}). Save the scene under one of them."
            )
        self.check_output_folder(output_folder(output, scene))

    def check_output_folder(self, folder: str) -> None:
        """Checks the folder a job's frames go to (also for each frame file, by its folder).

        Raises:
            PathNotAllowed: outside the studio's output roots, or in a private folder.
        """
        if not self.within_output_roots(folder):
            raise PathNotAllowed(
                f"The output folder {folder} is outside the folders this studio renders into "
                f"({', '.join(self.output_roots)}). Choose an output under one of them."
            )
        if self.is_private(folder):
            raise PathNotAllowed(
                f"The output folder {folder} is inside the daemon's own data folder, where no "
                "job may write. Choose an output on studio storage."
            )

    def within_output_roots(self, path: str) -> bool:
        """Whether ``path`` is under an output root (any path when the studio sets none)."""
        return self._within(path, self.output_roots)

    def is_private(self, path: str) -> bool:
        """Whether ``path`` is in a private folder (the daemon's own)."""
        return any(is_inside(path, private, self.mapping) for private in self.private)

    def check_asset(self, path: str, real: str = "") -> None:
        """Checks a file a scene reads before it may leave the building (staging for the cloud).

        Args:
            path: the file as the scene names it (studio form).
            real: where it really is on this machine, links resolved; checked too.

        Raises:
            PathNotAllowed: it is in a private folder (the daemon's own: keys, database), or
                outside ``[paths] asset_roots`` when the studio sets them.
        """
        for candidate in filter(None, (path, real)):
            if self.is_private(candidate):
                raise PathNotAllowed(
                    f"The scene names {path}, which is in the daemon's own data folder: no "
                    "job's files may come from there. Remove it from the scene."
                )
        if not self._within(path, self.asset_roots):
            raise PathNotAllowed(
                f"The scene names {path}, outside the folders whose files may leave the "
                f"building ({', '.join(self.asset_roots)}). Move it under one of them, or ask "
                "IT to add its folder to [paths] asset_roots."
            )

    def _within(self, path: str, roots: Sequence[str]) -> bool:
        return not roots or any(is_inside(path, root, self.mapping) for root in roots)
