"""Path mapping: the same studio storage seen from Windows, UNC, Linux and macOS.

One table of ``PathRule``s says where each storage root is on each platform, for example::

    studio: windows P:\\   unc \\\\fs01\\projects   linux /mnt/studio   macos /Volumes/studio

``PathMapping.map`` turns a path written in any of those forms into the form of a target
platform, in both directions. Windows and UNC roots compare without regard to case or slash
direction (``P:/show`` and ``p:\\show`` are the same); Linux and macOS roots compare exactly,
component by component (``/mnt/studio2`` is not under ``/mnt/studio``). The longest matching
root wins. ``map_command`` and ``map_environment`` apply the table to a renderer's command line
and environment; ``common.data.scene_text`` applies it inside text scene files.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from common.models import WireModel


class Platform(StrEnum):
    """The form a path is written in."""

    WINDOWS = "windows"
    """A drive letter: ``P:\\show\\tex.exr``."""
    UNC = "unc"
    """A Windows network share: ``\\\\server\\share\\show\\tex.exr``."""
    LINUX = "linux"
    MACOS = "macos"


_DRIVE = re.compile(r"^([A-Za-z]):(?:[\\/]|$)")
_UNC = re.compile(r"^[\\/]{2}([^\\/]+)[\\/]+([^\\/]+)")
Root = Annotated[str, Field(min_length=1, max_length=1024)]


class PathRule(WireModel):
    """One storage root as each platform names it (a platform left out has no mapping)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=80)]
    windows: Root | None = None
    unc: Root | None = None
    linux: Root | None = None
    macos: Root | None = None

    @model_validator(mode="after")
    def _roots_well_formed(self) -> PathRule:
        for platform in Platform:
            root = self.root(platform)
            if root is not None and _parse(root)[0] != _family(platform):
                raise ValueError(f"{root!r} is not a {platform} path (rule {self.name!r})")
        return self

    def root(self, platform: Platform) -> str | None:
        """This rule's root on ``platform``."""
        value: str | None = getattr(self, platform.value)
        return value


class PathMapping:
    """A table of rules, applied to single paths, command lines and environments."""

    def __init__(
        self, rules: Iterable[PathRule] = (), aliases: Iterable[tuple[str, PathRule]] = ()
    ) -> None:
        """Builds the table.

        Args:
            rules: the rules.
            aliases: more roots that paths may be written under, each read as the given rule's
                (``rebased`` keeps a platform's former roots this way).
        """
        self.rules = list(rules)
        self._aliases = list(aliases)
        roots = [(r, rule) for rule in self.rules for p in Platform if (r := rule.root(p))]
        self._roots: list[tuple[int, str, tuple[str, ...], PathRule]] = []
        for root, rule in [*roots, *self._aliases]:
            family, parts = _parse(root)
            self._roots.append((len(parts), family, _key(family, parts), rule))
        self._roots.sort(key=lambda item: -item[0])

    def split(self, path: str) -> tuple[PathRule, list[str]] | None:
        """The rule whose root holds ``path`` and the components below that root."""
        family, parts = _parse(path)
        if family == "relative":
            return None
        key = _key(family, parts)
        for length, root_family, root_key, rule in self._roots:
            if root_family == family and key[:length] == root_key:
                return rule, parts[length:]
        return None

    def map(self, path: str, to: Platform, *, forward_slashes: bool = False) -> str | None:
        """``path`` in the form of ``to``, or None when no rule covers it (or has no root there).

        Args:
            path: a path in any platform's form.
            to: the target platform. For ``WINDOWS`` a rule without a drive letter falls back
                to its UNC root, and the other way round.
            forward_slashes: write Windows and UNC results with ``/`` (as Maya and Nuke do).
        """
        found = self.split(path)
        if found is None:
            return None
        rule, rest = found
        root = rule.root(to)
        if root is None and to in (Platform.WINDOWS, Platform.UNC):
            root = rule.root(Platform.UNC if to is Platform.WINDOWS else Platform.WINDOWS)
        if root is None:
            return None
        family, root_parts = _parse(root)
        windows = family in ("drive", "unc")
        separator = "/" if forward_slashes or not windows else "\\"
        anchor = {"drive": "", "unc": separator * 2, "posix": "/"}[family]
        if family == "drive" and len(root_parts) == 1 and not rest:
            return root_parts[0] + separator
        return anchor + separator.join([*root_parts, *rest])

    def rebased(self, platform: Platform, base: str) -> PathMapping:
        """The same table with every rule's ``platform`` root moved to ``base/<rule name>``.

        Paths written under the former roots still map (to the new ones). A render node lays a
        job's files out under a workspace folder this way.
        """
        base = base.rstrip("/\\")
        separator = "\\" if platform in (Platform.WINDOWS, Platform.UNC) else "/"
        rules, aliases = [], []
        for rule in self.rules:
            moved = rule.model_copy(update={platform.value: f"{base}{separator}{rule.name}"})
            rules.append(moved)
            old = rule.root(platform)
            if old is not None:
                aliases.append((old, moved))
        aliases += [
            (root, moved)
            for root, rule in self._aliases
            for moved in rules
            if moved.name == rule.name
        ]
        return PathMapping(rules, aliases)

    # --- command lines and environments ------------------------------------------------------

    def map_command(self, args: Sequence[str], to: Platform) -> list[str]:
        """A command line with each path argument (and each ``--opt=PATH`` value) mapped."""
        mapped = []
        for arg in args:
            whole = self.map(arg, to)
            if whole is not None:
                mapped.append(whole)
                continue
            option, equals, value = arg.partition("=")
            new_value = self.map(value, to) if equals and option.startswith("-") else None
            mapped.append(f"{option}={new_value}" if new_value is not None else arg)
        return mapped

    def map_environment(self, env: Mapping[str, str], to: Platform) -> dict[str, str]:
        """Environment values with their paths mapped; path lists keep their order.

        A value holding ``;`` is read as a Windows path list; a value whose ``:``-separated
        items are all absolute POSIX paths as a POSIX list. Lists are written with the target
        platform's separator.
        """
        separator = ";" if to in (Platform.WINDOWS, Platform.UNC) else ":"
        result = {}
        for name, value in env.items():
            items = _path_list(value)
            if items is None:
                result[name] = self.map(value, to) or value
                continue
            mapped = [self.map(item, to) for item in items]
            if all(m is None for m in mapped):
                result[name] = value
            else:
                result[name] = separator.join(m or i for m, i in zip(mapped, items, strict=True))
        return result


def current_platform() -> Platform:
    """The platform this process runs on (Windows paths are written with drive letters)."""
    if sys.platform.startswith("win"):
        return Platform.WINDOWS
    return Platform.MACOS if sys.platform == "darwin" else Platform.LINUX


def split_path(path: str) -> tuple[str, list[str]]:
    """(family, components) of a path: families ``drive`` (``P:``, then the folders), ``unc``
    (server, share, folders), ``posix`` and ``relative`` (no components)."""
    return _parse(path)


def _family(platform: Platform) -> str:
    return {"windows": "drive", "unc": "unc"}.get(platform.value, "posix")


def _parse(path: str) -> tuple[str, list[str]]:
    """(family, components) of a path; families: drive, unc, posix, relative."""
    drive = _DRIVE.match(path)
    if drive:
        rest = path[2:]
        return "drive", [f"{drive.group(1).upper()}:", *_components(rest)]
    unc = _UNC.match(path)
    if unc:
        rest = path[unc.end() :]
        return "unc", [unc.group(1), unc.group(2), *_components(rest)]
    if path.startswith("/") and not path.startswith("//"):
        return "posix", [p for p in path.split("/") if p]
    return "relative", []


def _components(rest: str) -> list[str]:
    return [p for p in re.split(r"[\\/]+", rest) if p]


def _key(family: str, parts: Sequence[str]) -> tuple[str, ...]:
    """Components as compared: Windows forms without regard to case."""
    return tuple(p.casefold() for p in parts) if family in ("drive", "unc") else tuple(parts)


def _path_list(value: str) -> list[str] | None:
    """The items of a path-list value, or None when it is a single value."""
    if ";" in value:
        return value.split(";")
    if ":" in value and _DRIVE.match(value) is None:
        items = value.split(":")
        if all(item.startswith("/") for item in items if item):
            return items
    return None
