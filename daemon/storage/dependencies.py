"""Dependencies between jobs (``job_dependencies``) and between their frames
(``task_dependencies``): what a job waits for, who waits for a job, and the loops a change
would close.

The lease reads ``task_dependencies`` through ``storage/tasks.py`` ``READY``; a job's own
waiting (an ``all`` dependency not yet succeeded, or any dependency failed or cancelled) is
decided by ``scheduling/dependencies.py`` from ``upstreams``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Sequence

import sqlite_utils

from common.models import JobDependency
from common.states import JobState
from daemon.scheduling.dependencies import Upstream


def existing_jobs(db: sqlite_utils.Database, job_ids: Sequence[int]) -> set[int]:
    """Those of ``job_ids`` that name a stored job."""
    if not job_ids:
        return set()
    rows = db.conn.execute(
        "SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(job_ids)]
    )
    return {row[0] for row in rows}


def upstreams(db: sqlite_utils.Database, job_id: int) -> list[Upstream]:
    """The jobs ``job_id`` waits for, oldest first."""
    rows = db.conn.execute(
        "SELECT u.id, u.name, u.state, d.frames FROM job_dependencies d"
        " JOIN jobs u ON u.id = d.upstream_id WHERE d.job_id = ? ORDER BY u.id",
        [job_id],
    )
    return [Upstream(row[0], row[1], JobState(row[2]), row[3]) for row in rows]


def dependants(db: sqlite_utils.Database, job_id: int) -> list[int]:
    """The jobs that wait for ``job_id``."""
    rows = db.conn.execute(
        "SELECT job_id FROM job_dependencies WHERE upstream_id = ? ORDER BY job_id", [job_id]
    )
    return [row[0] for row in rows]


def replace(db: sqlite_utils.Database, job_id: int, deps: Iterable[JobDependency]) -> None:
    """Makes ``deps`` the job's dependencies: its job rows and, for ``same``, an edge from
    each of its tasks to every task of that job holding one of the task's frames (a frame the
    other job does not render waits for nothing). Inside the caller's transaction."""
    db.execute("DELETE FROM job_dependencies WHERE job_id = ?", [job_id])
    db.execute(
        "DELETE FROM task_dependencies WHERE task_id IN (SELECT id FROM tasks WHERE job_id = ?)",
        [job_id],
    )
    deps = list(deps)
    db.conn.executemany(
        "INSERT INTO job_dependencies (job_id, upstream_id, frames) VALUES (?, ?, ?)",
        ((job_id, dep.job, dep.frames) for dep in deps),
    )
    own = _frames_by_task(db, job_id)
    for dep in deps:
        if dep.frames != "same":
            continue
        holders: dict[int, list[int]] = {}
        for task_id, frames in _frames_by_task(db, dep.job):
            for frame in frames:
                holders.setdefault(frame, []).append(task_id)
        db.conn.executemany(
            "INSERT OR IGNORE INTO task_dependencies (task_id, upstream_task_id) VALUES (?, ?)",
            (
                (task_id, upstream)
                for task_id, frames in own
                for upstream in {u for frame in frames for u in holders.get(frame, ())}
            ),
        )


def _frames_by_task(db: sqlite_utils.Database, job_id: int) -> list[tuple[int, list[int]]]:
    rows = db.conn.execute("SELECT id, frames FROM tasks WHERE job_id = ? ORDER BY idx", [job_id])
    return [(row[0], json.loads(row[1])) for row in rows]


def find_loop(db: sqlite_utils.Database, job_id: int, upstream_ids: Sequence[int]) -> list[int]:
    """The loop ``job_id`` waiting for ``upstream_ids`` would close, as job ids from ``job_id``
    back to it (``[12, 14, 12]``); empty when there is none.

    The jobs reachable from ``upstream_ids`` are found with one recursive query over
    ``job_dependencies`` (each job once, so it stays linear however the jobs fan in); the loop
    is then traced through the edges among them. ``job_id``'s own stored dependencies are left
    out: the change replaces them.
    """
    rows = db.conn.execute(
        "WITH RECURSIVE reach(id) AS ("
        " SELECT value FROM json_each(:ups)"
        " UNION SELECT d.upstream_id FROM reach JOIN job_dependencies d ON d.job_id = reach.id"
        " WHERE reach.id != :job)"
        " SELECT d.job_id, d.upstream_id FROM job_dependencies d"
        " WHERE d.job_id IN reach AND d.job_id != :job",
        {"ups": json.dumps(list(upstream_ids)), "job": job_id},
    )
    edges: dict[int, list[int]] = {}
    for down, up in rows:
        edges.setdefault(down, []).append(up)
    came_from: dict[int, int] = {up: job_id for up in upstream_ids}
    todo = deque(upstream_ids)
    while todo:
        current = todo.popleft()
        if current == job_id:
            path = [job_id]
            step = came_from[job_id]
            while step != job_id:
                path.append(step)
                step = came_from[step]
            return [job_id, *reversed(path[1:]), job_id]
        for up in edges.get(current, ()):
            if up not in came_from or up == job_id:
                came_from.setdefault(up, current)
                todo.append(up)
    return []
