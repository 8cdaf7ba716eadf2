"""Gets the files one task needs into the node cache, and lays out its workspace.

Only the task's share of the job's manifest is fetched (``Manifest.for_frames``); files the
cache holds already cost nothing; the rest are read from the object store in parallel, each
verified against its hash before it enters the cache. Everything the task uses stays pinned in
the cache until its workspace is laid out, so another task's downloads cannot evict it midway.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from cloud_agent.cache.node_cache import NodeCache
from cloud_agent.cache.workspace import LayoutReport, Workspace
from common.data.manifest import Manifest
from common.data.reader import BlobReader, FetchReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedTask:
    """What preparing one task's files did."""

    files: int
    bytes: int
    """Bytes of the task's distinct files."""
    cache_hits: int
    fetched: FetchReport | None
    """The download, or None when the cache held everything."""
    layout: LayoutReport


class TaskFetcher:
    """Prepares tasks' files on this node. Thread-safe; one per agent process is enough."""

    def __init__(self, cache: NodeCache, reader: BlobReader) -> None:
        self.cache = cache
        self.reader = reader

    def prepare(
        self,
        manifest: Manifest,
        workspace: Workspace,
        frames: Iterable[int] | None = None,
        *,
        handles: int = 0,
    ) -> PreparedTask:
        """Fetches what the frames need and lays out the workspace.

        Args:
            manifest: the job's manifest.
            workspace: where the task's files go.
            frames: the task's frames; every file when None.
            handles: frames either side also fetched for sequences (see ``Manifest.for_frames``).

        Raises:
            BlobMissing, BlobCorrupt: files could not be had intact; none of them was used.
            StoreAccessDenied, StoreUnavailable: the store refused or failed.
        """
        wanted = manifest if frames is None else manifest.for_frames(frames, handles=handles)
        sizes = wanted.blobs()
        with self.cache.pinned(sizes):
            cached = self.cache.present(sizes)
            missing = {h: s for h, s in sizes.items() if h not in cached}
            report = None
            if missing:
                report = self.reader.fetch(
                    missing,
                    self.cache.temp_dir,
                    lambda digest, path: self.cache.add(digest, path, sizes[digest]),
                )
            layout = workspace.layout(wanted, self.cache)
        logger.info(
            "task files: %d file(s), %d in cache, %d fetched (%d byte(s) received)",
            len(sizes),
            len(cached),
            len(missing),
            report.bytes_received if report else 0,
        )
        return PreparedTask(len(sizes), sum(sizes.values()), len(cached), report, layout)
