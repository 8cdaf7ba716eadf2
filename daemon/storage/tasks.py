"""Tasks table: leasing by compare-and-set, state moves, lease renewal and expiry."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from common.states import TaskState

ACTIVE = (TaskState.LEASED.value, TaskState.RUNNING.value)


def get_task(db: sqlite_utils.Database, task_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM tasks WHERE id = ?", [task_id]))
    return rows[0] if rows else None


def list_tasks(db: sqlite_utils.Database, job_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM tasks WHERE job_id = ? ORDER BY idx", [job_id]))


def page_tasks(
    db: sqlite_utils.Database, job_id: int, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the job's tasks in task order, and how many tasks the job has."""
    rows = list(
        db.query(
            "SELECT * FROM tasks WHERE job_id = ? ORDER BY idx LIMIT ? OFFSET ?",
            [job_id, limit, offset],
        )
    )
    total = db.conn.execute("SELECT count(*) FROM tasks WHERE job_id = ?", [job_id]).fetchone()
    return rows, int(total[0])


def latest_started(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    """The job's task that started last, a running one before any other."""
    rows = list(
        db.query(
            "SELECT * FROM tasks WHERE job_id = ? AND started_at IS NOT NULL"
            " ORDER BY state = 'running' DESC, started_at DESC LIMIT 1",
            [job_id],
        )
    )
    return rows[0] if rows else None


def claim_first_queued(
    db: sqlite_utils.Database, job_id: int, agent_id: str, expires_at: float
) -> dict[str, Any] | None:
    """Leases the job's first queued task to the agent; None if another caller won it."""
    rows = list(
        db.query(
            "SELECT id FROM tasks WHERE job_id = ? AND state = 'queued' ORDER BY idx LIMIT 1",
            [job_id],
        )
    )
    if not rows:
        return None
    cursor = db.execute(
        "UPDATE tasks SET state = 'leased', agent_id = ?, lease_expires_at = ?,"
        " attempts = attempts + 1, progress = 0, started_at = NULL, finished_at = NULL"
        " WHERE id = ? AND state = 'queued'",
        [agent_id, expires_at, rows[0]["id"]],
    )
    return get_task(db, rows[0]["id"]) if cursor.rowcount == 1 else None


def move_task(
    db: sqlite_utils.Database,
    task_id: int,
    from_states: Iterable[TaskState | str],
    to: TaskState,
    *,
    holder: str | None = None,
    attempt: int | None = None,
    **fields: Any,
) -> bool:
    """Compare-and-set: moves the task only if its state (and holder, attempt) still match.

    ``fields`` are columns to set along with the state (``agent_id=None`` clears the holder).
    """
    states = [TaskState(s).value for s in from_states]
    sets = ", ".join(["state = ?", *(f"{name} = ?" for name in fields)])
    where = [f"state IN ({', '.join('?' * len(states))})"]
    params: list[Any] = [to.value, *fields.values(), task_id, *states]
    if holder is not None:
        where.append("agent_id = ?")
        params.append(holder)
    if attempt is not None:
        where.append("attempts = ?")
        params.append(attempt)
    cursor = db.execute(f"UPDATE tasks SET {sets} WHERE id = ? AND {' AND '.join(where)}", params)
    return cursor.rowcount == 1


def set_progress(
    db: sqlite_utils.Database, task_id: int, agent_id: str, attempt: int, progress: float
) -> bool:
    cursor = db.execute(
        "UPDATE tasks SET progress = ? WHERE id = ? AND agent_id = ? AND attempts = ?"
        " AND state IN ('leased', 'running')",
        [progress, task_id, agent_id, attempt],
    )
    return cursor.rowcount == 1


def cancel_job_tasks(db: sqlite_utils.Database, job_id: int, now: float) -> int:
    """Cancels every unfinished task of a job; agents learn it from their next heartbeat."""
    cursor = db.execute(
        "UPDATE tasks SET state = 'cancelled', finished_at = ?, lease_expires_at = NULL"
        " WHERE job_id = ? AND state IN ('queued', 'leased', 'running')",
        [now, job_id],
    )
    return cursor.rowcount


def requeue_failed(db: sqlite_utils.Database, job_id: int) -> int:
    """Puts a job's failed tasks back in the queue with a fresh retry budget."""
    cursor = db.execute(
        "UPDATE tasks SET state = 'queued', failures = 0, agent_id = NULL, progress = 0,"
        " lease_expires_at = NULL WHERE job_id = ? AND state = 'failed'",
        [job_id],
    )
    return cursor.rowcount


def renew_leases(
    db: sqlite_utils.Database, agent_id: str, task_ids: Sequence[int], expires_at: float
) -> set[int]:
    """Extends the leases the agent still holds; returns the ids it really holds."""
    if not task_ids:
        return set()
    marks = ", ".join("?" * len(task_ids))
    held = {
        row["id"]
        for row in db.query(
            f"SELECT id FROM tasks WHERE id IN ({marks}) AND agent_id = ?"
            " AND state IN ('leased', 'running')",
            [*task_ids, agent_id],
        )
    }
    if held:
        db.execute(
            f"UPDATE tasks SET lease_expires_at = ? WHERE id IN ({', '.join('?' * len(held))})",
            [expires_at, *held],
        )
    return held


def expired_leases(db: sqlite_utils.Database, now: float) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT t.*, j.spec AS job_spec FROM tasks t JOIN jobs j ON j.id = t.job_id"
            " WHERE t.state IN ('leased', 'running') AND t.lease_expires_at < ?",
            [now],
        )
    )


def extend_all_leases(db: sqlite_utils.Database, expires_at: float) -> int:
    """After a daemon restart: give every agent a full lease time to reach us again."""
    cursor = db.execute(
        "UPDATE tasks SET lease_expires_at = max(coalesce(lease_expires_at, 0), ?)"
        " WHERE state IN ('leased', 'running')",
        [expires_at],
    )
    return cursor.rowcount


def split_queued(db: sqlite_utils.Database, task_id: int, keep: int) -> bool:
    """Keeps the first ``keep`` frames in a queued task and queues the rest as a new task.

    Cloud nodes take shorter tasks than the job was chunked in (a preemption then loses less).
    Compare-and-set: False when the task is no longer queued or already small enough.
    """
    task = get_task(db, task_id)
    if task is None or task["state"] != TaskState.QUEUED.value or task["frame_count"] <= keep:
        return False
    frames = json.loads(task["frames"])
    head, tail = frames[:keep], frames[keep:]
    cursor = db.execute(
        "UPDATE tasks SET frames = ?, frame_count = ? WHERE id = ? AND state = 'queued'",
        [json.dumps(head), len(head), task_id],
    )
    if cursor.rowcount != 1:
        return False
    last = next(
        iter(db.query("SELECT max(idx) AS i FROM tasks WHERE job_id = ?", [task["job_id"]]))
    )
    db.execute(
        "INSERT INTO tasks (job_id, idx, frames, frame_count, state, failures)"
        " VALUES (?, ?, ?, ?, 'queued', ?)",
        [task["job_id"], last["i"] + 1, json.dumps(tail), len(tail), task["failures"]],
    )
    return True


def first_queued(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT * FROM tasks WHERE job_id = ? AND state = 'queued' ORDER BY idx LIMIT 1",
            [job_id],
        )
    )
    return rows[0] if rows else None
