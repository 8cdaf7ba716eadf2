"""Builds a job's manifest from the assets a host collected, or from plain paths.

Sequences and UDIM sets are expanded to the files that exist, each tagged with its frame or
tile. Files are hashed through a ``HashCache`` on a few threads (reading files over a network
share is latency-bound), so an unchanged tree is never read twice.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from common.data.hash_cache import HashCache
from common.data.manifest import Manifest, ManifestEntry
from common.data.sequences import SequenceFile, expand, has_pattern, tag_files
from common.host import Asset

logger = logging.getLogger(__name__)

Dependency = Asset | str


@dataclass(frozen=True)
class _Wanted:
    """One file to hash: its path in the scene's form and where this machine reads it."""

    path: str
    local: str
    kind: str
    sequence: str | None
    frame: int | None
    tile: int | None


class ManifestBuilder:
    """Turns dependencies into a ``Manifest``. One builder may build many manifests.

    ``bytes_hashed`` and ``files_hashed`` (from the hash cache) say how much was really read.
    """

    def __init__(
        self,
        hash_cache: HashCache,
        *,
        resolve: Callable[[str], str] | None = None,
        workers: int = 8,
    ) -> None:
        """Sets the builder up.

        Args:
            hash_cache: remembers hashes between builds.
            resolve: turns a path as the scene writes it into one this machine can read (a
                ``PathMapping`` to the local platform); identity when None.
            workers: threads hashing files at once.
        """
        self.hash_cache = hash_cache
        self.resolve = resolve or (lambda path: path)
        self.workers = workers

    @property
    def bytes_hashed(self) -> int:
        """Bytes read and hashed so far (cache hits read nothing)."""
        return self.hash_cache.bytes_hashed

    @property
    def files_hashed(self) -> int:
        """Files read and hashed so far."""
        return self.hash_cache.files_hashed

    def build(self, dependencies: Iterable[Dependency], *, scene: str | None = None) -> Manifest:
        """The manifest of a scene and its dependencies.

        Args:
            dependencies: ``Asset``s from a host adapter or scene reader, or plain paths (which
                may hold sequence or UDIM tokens).
            scene: the scene file itself, listed first with kind ``scene``.
        """
        wanted: dict[str, _Wanted] = {}
        missing: list[str] = []
        if scene is not None:
            self._add(wanted, missing, scene, "scene")
        for dependency in dependencies:
            if isinstance(dependency, Asset):
                self._add_asset(wanted, missing, dependency)
            else:
                self._add(wanted, missing, dependency, "other")
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            results = list(pool.map(self._entry, wanted.values()))
        entries = []
        for item, entry in zip(wanted.values(), results, strict=True):
            if entry is None:
                missing.append(item.path)
            else:
                entries.append(entry)
        self.hash_cache.flush()
        manifest = Manifest(entries=entries, missing=sorted(set(missing)))
        logger.info(
            "manifest: %d file(s), %d byte(s), %d missing; %d byte(s) hashed so far",
            len(entries),
            manifest.total_size,
            len(manifest.missing),
            self.bytes_hashed,
        )
        return manifest

    # --- helpers -------------------------------------------------------------------------------

    def _add_asset(self, wanted: dict[str, _Wanted], missing: list[str], asset: Asset) -> None:
        if not asset.evaluated:  # an expression only the DCC evaluates: no file to send
            return
        kind = str(asset.kind)
        missing.extend(asset.missing_files)
        if asset.files:
            files = tag_files(asset.path, asset.files) if has_pattern(asset.path) else None
            for item in files or [SequenceFile(path) for path in asset.files]:
                sequence = asset.path if item.frame is not None or item.tile is not None else None
                self._put(wanted, item.path, self.resolve(item.path), kind, sequence, item)
            return
        self._add(wanted, missing, asset.path, kind)

    def _add(self, wanted: dict[str, _Wanted], missing: list[str], path: str, kind: str) -> None:
        if not has_pattern(path):
            self._put(wanted, path, self.resolve(path), kind, None, SequenceFile(path))
            return
        local_pattern = self.resolve(path)
        files = expand(local_pattern)
        if not files:
            missing.append(path)
        cut = max(path.rfind("/"), path.rfind("\\")) + 1
        for item in files:
            name = os.path.basename(item.path)
            self._put(wanted, path[:cut] + name, item.path, kind, path, item)

    @staticmethod
    def _put(
        wanted: dict[str, _Wanted],
        path: str,
        local: str,
        kind: str,
        sequence: str | None,
        item: SequenceFile,
    ) -> None:
        if path not in wanted:
            wanted[path] = _Wanted(path, local, kind, sequence, item.frame, item.tile)

    def _entry(self, item: _Wanted) -> ManifestEntry | None:
        """Hashes one file (worker thread); None when it cannot be read."""
        try:
            digest, stat = self.hash_cache.hash(item.local)
        except OSError as exc:
            logger.warning("manifest: cannot read %s: %s", item.local, exc.strerror or exc)
            return None
        return ManifestEntry(
            path=item.path,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            hash=digest,
            kind=item.kind,
            sequence=item.sequence,
            frame=item.frame,
            tile=item.tile,
        )
