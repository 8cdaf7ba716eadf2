"""A job's workspace on a render node: its files laid out as the scene expects them.

Studio paths are mapped into the workspace through the farm's path-mapping table, each rule's
root becoming ``<workspace>/<rule name>`` (``P:/show/a.exr`` -> ``<ws>/studio/show/a.exr``); a
path under no rule goes below ``<ws>/_abs/``. Files are hard links to the node cache (copies
across file systems). Text scenes (``.ma``, ``.nk``, ``.usda``) are written as new files with
their paths rewritten to the workspace, so the cache's copy is never changed; the renderer's
command line and environment are mapped the same way.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cloud_agent.cache.node_cache import NodeCache
from common.data.manifest import Manifest
from common.data.pathmap import PathMapping, Platform, current_platform, split_path
from common.data.scene_text import SUPPORTED_SUFFIXES, rewrite_file

logger = logging.getLogger(__name__)

UNMAPPED_DIR = "_abs"


@dataclass(frozen=True)
class LayoutReport:
    """What ``Workspace.layout`` did."""

    linked: int
    copied: int
    rewritten: int
    """Text scenes written with their paths mapped."""
    paths_rewritten: int
    """Path strings replaced inside them."""


class Workspace:
    """One job's folder on this node. Used by one task at a time."""

    def __init__(self, root: Path, mapping: PathMapping, platform: Platform | None = None) -> None:
        """Names the workspace (nothing is created before ``layout``).

        Args:
            root: the workspace folder, on the node cache's file system.
            mapping: the farm's path-mapping table.
            platform: this node's platform; the running one when None.
        """
        self.root = root
        self.platform = platform or current_platform()
        self.mapping = mapping.rebased(self.platform, str(root))

    def local_path(self, path: str) -> str:
        """Where a studio path (any platform's form) is in this workspace.

        Relative paths (and ``$VAR`` paths) are returned unchanged.
        """
        mapped = self.mapping.map(path, self.platform)
        if mapped is not None:
            return mapped
        family, parts = split_path(path)
        if family == "relative":
            return path
        clean = [part.rstrip(":") for part in parts]
        return str(self.root / UNMAPPED_DIR / PurePosixPath(*clean))

    def map_path(self, path: str) -> str | None:
        """``local_path`` for absolute paths, None for relative ones (the scene-text mapper)."""
        local = self.local_path(path)
        return None if local == path else local

    def layout(self, manifest: Manifest, cache: NodeCache) -> LayoutReport:
        """Puts every file of ``manifest`` (all cached already) in the workspace.

        Raises:
            FileNotFoundError: a file is not in the node cache.
        """
        linked = copied = rewritten = replaced = 0
        for entry in manifest.entries:
            dest = Path(self.local_path(entry.path))
            if not dest.is_absolute() or self.root not in dest.parents:
                raise ValueError(f"{entry.path!r} does not map into the workspace {self.root}")
            if dest.suffix.lower() in SUPPORTED_SUFFIXES:
                cache.link(entry.hash, dest)  # touches the LRU and checks the blob is there
                replaced += rewrite_file(cache.path_of(entry.hash), dest, self.map_path)
                os.chmod(dest, 0o644)
                rewritten += 1
            elif cache.link(entry.hash, dest):
                linked += 1
            else:
                copied += 1
        logger.info(
            "workspace %s: %d linked, %d copied, %d scene(s) rewritten (%d path(s))",
            self.root, linked, copied, rewritten, replaced,
        )  # fmt: skip
        return LayoutReport(linked, copied, rewritten, replaced)

    def command(self, args: Sequence[str]) -> list[str]:
        """A renderer command line with its studio paths mapped into the workspace."""
        return [self.map_path(arg) or self._map_option(arg) for arg in args]

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """Environment values with studio paths (and path lists) mapped into the workspace."""
        return self.mapping.map_environment(env, self.platform)

    def remove(self) -> None:
        """Deletes the workspace (the cache keeps its files)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def _map_option(self, arg: str) -> str:
        option, equals, value = arg.partition("=")
        if equals and option.startswith("-"):
            mapped = self.map_path(value)
            if mapped is not None:
                return f"{option}={mapped}"
        return arg
