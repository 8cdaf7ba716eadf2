"""The queue: the jobs with a task an agent may take, in the order their tasks are handed out.

The order is the ranking pass's (``job_ranks``: tier, then sort key); held shows and jobs with
nothing queued are not in it, nor are jobs held by their dependencies (even while tasks of
theirs still run: a job whose upstream failed, or that was given a new dependency, takes
nothing more until it is met). For one node, ``queue_candidates`` also matches in SQL what each
job requires (pool, OS, memory, GPUs, DCC version, tags), leaves out the jobs that keep failing
on it and those whose limits have no unit free, and counts only tasks that are ready (no
licence wait, enough memory, their frames' dependencies done).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from daemon.storage.tasks import READY

#: Jobs with a task waiting that an agent may take, best first: the queue. CROSS JOIN makes
#: SQLite walk ``job_ranks`` in index order and stop at the LIMIT, rather than sort every job.
_QUEUE = (
    "SELECT r.job_id FROM job_ranks r CROSS JOIN jobs j ON j.id = r.job_id"
    " WHERE j.state IN ('queued', 'running'){node}"
    " AND NOT EXISTS (SELECT 1 FROM show_policies p WHERE p.project = j.project AND p.held = 1)"
    " AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs u ON u.id = d.upstream_id"
    " WHERE d.job_id = j.id AND (u.state IN ('failed', 'cancelled')"
    " OR (d.frames = 'all' AND u.state != 'succeeded')))"
    " AND EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND {ready})"
    " ORDER BY r.tier, r.sort_key, r.submitted_at, r.job_id"
)

#: What a job requires of the node asking (the ``req_*`` columns ``storage/jobs.py`` stores).
_MATCH = (
    " AND (j.req_pool = '' OR j.req_pool = :pool)"
    " AND (j.req_os = '' OR j.req_os = :os)"
    " AND j.req_memory_mb <= :memory_mb AND j.req_gpus <= :gpus"
    " AND j.req_gpu_memory_mb <= :gpu_memory_mb"
    " AND (j.req_dcc_version = '' OR json_extract(:versions, '$.' || j.dcc) = j.req_dcc_version"
    " OR substr(json_extract(:versions, '$.' || j.dcc), 1, length(j.req_dcc_version) + 1)"
    " = j.req_dcc_version || '.')"
    " AND (j.req_tags = '[]' OR NOT EXISTS (SELECT 1 FROM json_each(j.req_tags) w"
    " WHERE w.value NOT IN (SELECT value FROM json_each(:tags))))"
    " AND NOT EXISTS (SELECT 1 FROM node_job_failures f"
    " WHERE f.job_id = j.id AND f.agent_id = :agent_id AND f.kept_off = 1)"
)

#: A task waiting for its dependencies only (for the queue as people see it: no node asks).
_WAITING_ON_NOTHING = (
    "t.state = 'queued' AND NOT EXISTS (SELECT 1 FROM task_dependencies d"
    " JOIN tasks u ON u.id = d.upstream_task_id WHERE d.task_id = t.id AND u.state != 'done')"
)


@dataclass(frozen=True)
class NodeFacts:
    """The node asking for work, as the lease query matches it."""

    agent_id: str
    dccs: Sequence[str]
    pool: str
    os: str
    memory_mb: int
    gpus: int
    gpu_memory_mb: int
    dcc_versions: str
    """JSON object: the version of each DCC the node found."""
    tags: str
    """JSON list."""
    staged_only: bool
    """Only jobs whose files are in the object store (nodes without studio storage)."""
    takes_work: bool = True
    """False when a TD disabled or drained the node, or it is suspect: no job is a candidate."""

    @classmethod
    def of(cls, agent: dict[str, Any]) -> NodeFacts:
        """The facts of an ``agents`` row."""
        return cls(
            agent_id=agent["id"],
            dccs=json.loads(agent["dccs"]),
            pool=agent["pool"],
            os=agent["os"],
            memory_mb=agent["memory_mb"],
            gpus=agent["gpus"],
            gpu_memory_mb=agent["gpu_memory_mb"],
            dcc_versions=agent["dcc_versions"],
            tags=agent["tags"],
            staged_only=not agent["studio_access"],
            takes_work=agent["control"] == "enabled" and not agent["suspect"],
        )


def queue_ids(db: sqlite_utils.Database) -> list[int]:
    """The ids of the jobs in the queue, in the order their tasks are handed out."""
    sql = _QUEUE.format(node="", ready=_WAITING_ON_NOTHING)
    return [row[0] for row in db.conn.execute(sql)]


def queue_candidates(
    db: sqlite_utils.Database,
    node: NodeFacts,
    limit: int,
    offset: int = 0,
    *,
    now: float,
    full_limits: Sequence[str] = (),
) -> list[int]:
    """The best jobs in the queue that this node may take a task from now.

    ``full_limits``: the limits with no unit free for this node (``storage/limits.py``); a job
    holding one of them waits. A node a TD disabled or drained has no candidate.
    """
    if not node.dccs or not node.takes_work:
        return []
    params: dict[str, Any] = {
        "pool": node.pool, "os": node.os, "memory_mb": node.memory_mb, "gpus": node.gpus,
        "gpu_memory_mb": node.gpu_memory_mb, "versions": node.dcc_versions, "tags": node.tags,
        "agent_id": node.agent_id, "now": now, "limit": limit, "offset": offset,
    }  # fmt: skip
    dccs = _named(params, "dcc", node.dccs)
    where = f" AND j.dcc IN ({dccs})" + _MATCH
    if node.staged_only:
        where += (
            " AND EXISTS (SELECT 1 FROM job_data d WHERE d.job_id = j.id AND d.state = 'staged')"
        )
    if full_limits:
        full = _named(params, "limit_name", full_limits)
        where += (
            " AND NOT EXISTS (SELECT 1 FROM job_limits l"
            f" WHERE l.job_id = j.id AND l.name IN ({full}))"
        )
    sql = _QUEUE.format(node=where, ready=READY) + " LIMIT :limit OFFSET :offset"
    return [row[0] for row in db.conn.execute(sql, params)]


def _named(params: dict[str, Any], prefix: str, values: Sequence[str]) -> str:
    """Adds ``values`` to ``params`` as ``:prefix0, :prefix1...``; returns those names."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    params.update(zip(names, values, strict=True))
    return ", ".join(f":{name}" for name in names)
