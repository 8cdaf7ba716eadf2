"""Limits: named counters a TD sets (licences, shared resources), and the units in use.

A unit is held by each leased or running task of a job that lists the limit (``job_limits``):
use is counted from the tasks themselves, so a unit comes back the moment its task leaves the
agent (done, failed, requeued by the reaper after an agent died), with nothing to release.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from common.states import TaskState

_ACTIVE = (TaskState.LEASED.value, TaskState.RUNNING.value)


def list_limits(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every limit with its use: ``in_use`` farm-wide, or on the busiest node when per node."""
    rows = list(db.query("SELECT * FROM limits ORDER BY name"))
    used = _use(db) if rows else {}
    return [
        {**row, "in_use": used.get(row["name"], (0, 0))[1 if row["per_node"] else 0]}
        for row in rows
    ]


def get_limit(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM limits WHERE name = ?", [name]))
    return rows[0] if rows else None


def put_limit(
    db: sqlite_utils.Database, name: str, capacity: int, per_node: bool, now: float, by: str
) -> None:
    db.execute(
        "INSERT INTO limits (name, capacity, per_node, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET capacity = excluded.capacity,"
        " per_node = excluded.per_node, updated_at = excluded.updated_at,"
        " updated_by = excluded.updated_by",
        [name, capacity, int(per_node), now, by],
    )


def delete_limit(db: sqlite_utils.Database, name: str) -> bool:
    return db.execute("DELETE FROM limits WHERE name = ?", [name]).rowcount == 1


def limits_of_job(db: sqlite_utils.Database, job_id: int) -> list[str]:
    return [
        row[0]
        for row in db.conn.execute(
            "SELECT name FROM job_limits WHERE job_id = ? ORDER BY name", [job_id]
        )
    ]


def full_limits(db: sqlite_utils.Database, agent_id: str) -> list[str]:
    """The limits with no unit free for this agent: farm-wide ones at capacity, and per-node
    ones at capacity on this agent. Costs one small read when no limit is set."""
    limits = db.conn.execute("SELECT name, capacity, per_node FROM limits").fetchall()
    if not limits:
        return []
    used = _use(db, agent_id)
    full = []
    for name, capacity, per_node in limits:
        farm, mine = used.get(name, (0, 0))
        if (mine if per_node else farm) >= capacity:
            full.append(name)
    return full


def _use(db: sqlite_utils.Database, agent_id: str | None = None) -> dict[str, tuple[int, int]]:
    """Per limit: units held farm-wide, and on ``agent_id`` (on the busiest node when None).

    Walks the active tasks (at most one per agent slot), not the jobs that ever named a limit.
    """
    rows = db.conn.execute(
        "SELECT l.name, t.agent_id, count(*) FROM tasks t INDEXED BY tasks_by_lease"
        " JOIN job_limits l ON l.job_id = t.job_id"
        " WHERE t.state IN (?, ?) GROUP BY l.name, t.agent_id",
        [*_ACTIVE],
    ).fetchall()
    use: dict[str, tuple[int, int]] = {}
    for name, holder, count in rows:
        farm, node = use.get(name, (0, 0))
        if agent_id is None:
            node = max(node, count)
        elif holder == agent_id:
            node = count
        use[name] = (farm + count, node)
    return use
