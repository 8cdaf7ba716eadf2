"""The render node's side of just-in-time data: a shared content-addressed file cache, the
fetcher that fills it with one task's files, and the job workspace laid out from it.

Needs the ``data`` extra (see ``common.data``).
"""

from __future__ import annotations

from cloud_agent.cache.fetcher import PreparedTask, TaskFetcher
from cloud_agent.cache.node_cache import CacheStats, NodeCache
from cloud_agent.cache.workspace import LayoutReport, Workspace

__all__ = [
    "CacheStats",
    "LayoutReport",
    "NodeCache",
    "PreparedTask",
    "TaskFetcher",
    "Workspace",
]
