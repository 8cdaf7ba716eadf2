"""Tasks table: leasing by compare-and-set, state moves, lease renewal and expiry.

Every change of a task's state goes through ``_move``, which takes the states a task may leave
for its target from the one transition table (``common.states.TASK_TRANSITIONS``): no SQL here
names the states a move starts from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlite_utils

from common.errors import IllegalStateChange
from common.states import TaskState, task_states_from

ACTIVE = (TaskState.LEASED.value, TaskState.RUNNING.value)
"""The states of a task an agent holds (its lease runs)."""
_QUEUED = TaskState.QUEUED.value

READY = (
    "t.state = 'queued' AND (t.not_before IS NULL OR t.not_before <= :now)"
    " AND t.min_memory_mb <= :memory_mb"
    " AND NOT EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks u ON u.id = d.upstream_task_id"
    " WHERE d.task_id = t.id AND u.state != 'done')"
)
"""A queued task ``t`` a node may take now: not waiting out a licence wait, not needing more
memory than the node has (``:now``, ``:memory_mb``), and every task of another job holding the
same frames done (frame-by-frame dependencies)."""
_SOURCES = {to: task_states_from(to) for to in TaskState}
"""Per target state, the states the transition table lets reach it (read once)."""


def get_task(db: sqlite_utils.Database, task_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM tasks WHERE id = ?", [task_id]))
    return rows[0] if rows else None


def unstarted_of(db: sqlite_utils.Database, agent_id: str) -> dict[str, Any] | None:
    """A task leased to the agent that it has not reported on yet (still ``leased``)."""
    sql = "SELECT * FROM tasks WHERE agent_id = ? AND state = ? ORDER BY id LIMIT 1"
    rows = list(db.query(sql, [agent_id, TaskState.LEASED.value]))
    return rows[0] if rows else None


_NAMED = (
    "SELECT t.*, coalesce(a.name, la.name) AS agent_name FROM tasks t"
    " LEFT JOIN agents a ON a.id = t.agent_id LEFT JOIN agents la ON la.id = t.last_agent_id"
)
"""Tasks with the name of the agent that holds them, else of the one that held them last."""


def list_tasks(db: sqlite_utils.Database, job_id: int) -> list[dict[str, Any]]:
    return list(db.query(f"{_NAMED} WHERE t.job_id = ? ORDER BY t.idx", [job_id]))


def task_frames(db: sqlite_utils.Database, job_id: int) -> list[tuple[str, str]]:
    """Each task's frames (JSON) and state, in task order: a frame grid's facts, without the
    rest of each row."""
    sql = "SELECT frames, state FROM tasks WHERE job_id = ? ORDER BY idx"
    return [(frames, state) for frames, state in db.execute(sql, [job_id]).fetchall()]


def done_outputs(db: sqlite_utils.Database, job_id: int) -> list[str]:
    """The outputs (JSON lists) reported by the job's done tasks, in task order."""
    sql = "SELECT outputs FROM tasks WHERE job_id = ? AND state = ? ORDER BY idx"
    return [row[0] for row in db.execute(sql, [job_id, TaskState.DONE.value]).fetchall()]


def named_task(db: sqlite_utils.Database, job_id: int, task_id: int) -> dict[str, Any] | None:
    """The job's task ``task_id`` with its agent's name; None when the job has no such task."""
    rows = list(db.query(f"{_NAMED} WHERE t.id = ? AND t.job_id = ?", [task_id, job_id]))
    return rows[0] if rows else None


def page_tasks(
    db: sqlite_utils.Database, job_id: int, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the job's tasks in task order (with agent names), and how many there are."""
    rows = list(
        db.query(
            f"{_NAMED} WHERE t.job_id = ? ORDER BY t.idx LIMIT ? OFFSET ?",
            [job_id, limit, offset],
        )
    )
    total = db.conn.execute("SELECT count(*) FROM tasks WHERE job_id = ?", [job_id]).fetchone()
    return rows, int(total[0])


def latest_started(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    """The job's task that started last, a running one before any other (with its agent's
    name)."""
    rows = list(
        db.query(
            f"{_NAMED} WHERE t.job_id = ? AND t.started_at IS NOT NULL"
            " ORDER BY t.state = ? DESC, t.started_at DESC LIMIT 1",
            [job_id, TaskState.RUNNING.value],
        )
    )
    return rows[0] if rows else None


def claim_first_queued(
    db: sqlite_utils.Database,
    job_id: int,
    agent_id: str,
    expires_at: float,
    *,
    now: float,
    memory_mb: int | None = None,
) -> dict[str, Any] | None:
    """Leases the job's first task that is ready for the agent (``READY`` at ``now`` for a
    node with ``memory_mb``); None if there is none or another caller won it. The task's time
    on the node counts from ``now``."""
    task = first_queued(db, job_id, now=now, memory_mb=memory_mb)
    if task is None:
        return None
    task_id, attempts = task["id"], task["attempts"]
    claimed = move_task(
        db, task_id, TaskState.LEASED, attempt=attempts,
        agent_id=agent_id, last_agent_id=agent_id, lease_expires_at=expires_at,
        attempts=attempts + 1, progress=0, finished_at=None,
        # The node's time on the task counts from here (its duration, a cloud node's cost):
        # its first report may come an update interval later.
        started_at=now,
    )  # fmt: skip
    return get_task(db, task_id) if claimed else None


def move_task(
    db: sqlite_utils.Database,
    task_id: int,
    to: TaskState,
    *,
    expect: Iterable[TaskState | str] | None = None,
    holder: str | None = None,
    attempt: int | None = None,
    **fields: Any,
) -> bool:
    """Compare-and-set: moves the task to ``to`` only if its state is one the transition table
    lets reach ``to`` (and its holder and attempt still match).

    ``expect`` narrows the starting states to those the caller read; ``fields`` are columns to
    set along with the state (``agent_id=None`` clears the holder). False when the task
    changed under the caller (a lost race).

    Raises:
        IllegalStateChange: ``expect`` names a state the table does not let reach ``to``.
    """
    where = ["id = ?"]
    params: list[Any] = [task_id]
    if holder is not None:
        where.append("agent_id = ?")
        params.append(holder)
    if attempt is not None:
        where.append("attempts = ?")
        params.append(attempt)
    return _move(db, to, " AND ".join(where), params, expect, fields) == 1


def _move(
    db: sqlite_utils.Database,
    to: TaskState,
    where: str,
    params: Sequence[Any],
    expect: Iterable[TaskState | str] | None,
    fields: dict[str, Any],
) -> int:
    """Moves the tasks matching ``where`` whose state may reach ``to``; returns how many moved."""
    states = _sources(to, expect)
    sets = ", ".join(["state = ?", *(f"{name} = ?" for name in fields)])
    cursor = db.execute(
        f"UPDATE tasks SET {sets} WHERE {where} AND state IN ({', '.join('?' * len(states))})",
        [to.value, *fields.values(), *params, *states],
    )
    return cursor.rowcount


def _sources(to: TaskState, expect: Iterable[TaskState | str] | None) -> list[str]:
    """The states a move to ``to`` may start from: the table's, or those of ``expect``."""
    allowed = _SOURCES[to]
    if expect is None:
        return [s.value for s in allowed]
    states = [TaskState(s) for s in expect]
    for state in states:
        if state not in allowed:
            raise IllegalStateChange(f"A {state.value} task cannot become {to.value}.")
    return [s.value for s in states]


def set_progress(
    db: sqlite_utils.Database, task_id: int, agent_id: str, attempt: int, progress: float
) -> bool:
    cursor = db.execute(
        "UPDATE tasks SET progress = ? WHERE id = ? AND agent_id = ? AND attempts = ?"
        " AND state IN (?, ?)",
        [progress, task_id, agent_id, attempt, *ACTIVE],
    )
    return cursor.rowcount == 1


def cancel_job_tasks(db: sqlite_utils.Database, job_id: int, now: float) -> int:
    """Cancels every unfinished task of a job; agents learn it from their next heartbeat."""
    fields = {"finished_at": now, "lease_expires_at": None}
    return _move(db, TaskState.CANCELLED, "job_id = ?", [job_id], None, fields)


def requeue_failed(db: sqlite_utils.Database, job_id: int) -> int:
    """Puts a job's failed tasks back in the queue with a fresh retry budget."""
    fields = {"failures": 0, "agent_id": None, "progress": 0, "lease_expires_at": None}
    return _move(db, TaskState.QUEUED, "job_id = ?", [job_id], [TaskState.FAILED], fields)


def requeue_active(db: sqlite_utils.Database, job_id: int) -> int:
    """Takes back the job's tasks out on nodes, no retry spent (the job stopped early at its
    ``max_failed_tasks``); their agents learn it from their next heartbeat."""
    fields = {"agent_id": None, "lease_expires_at": None, "progress": 0}
    return _move(db, TaskState.QUEUED, "job_id = ?", [job_id], ACTIVE, fields)


def failed_tasks(db: sqlite_utils.Database, job_id: int) -> list[dict[str, Any]]:
    """The frames and error of each of the job's tasks that failed for good, in task order."""
    return list(
        db.query(
            "SELECT frames, error FROM tasks WHERE job_id = ? AND state = ? ORDER BY idx",
            [job_id, TaskState.FAILED.value],
        )
    )


def error_classes(db: sqlite_utils.Database, job_id: int) -> dict[str, int]:
    """How many of the job's tasks carry each failure class (their last failure's)."""
    return {
        row[0]: int(row[1])
        for row in db.conn.execute(
            "SELECT error_class, count(*) FROM tasks WHERE job_id = ? AND error_class != ''"
            " GROUP BY error_class ORDER BY error_class",
            [job_id],
        )
    }


class TaskHolder(NamedTuple):
    """A task's holder, attempt and state, as one read found them."""

    agent_id: str | None
    attempt: int
    state: str
    job_id: int

    def holds(self, agent_id: str) -> bool:
        """Whether ``agent_id`` holds the task now (its lease runs)."""
        return self.agent_id == agent_id and self.state in ACTIVE

    def holds_attempt(self, agent_id: str, attempt: int) -> bool:
        return self.holds(agent_id) and self.attempt == attempt

    def wrote(self, agent_id: str, attempt: int) -> bool:
        """Whether the attempt is (or was, until it ended) ``agent_id``'s: its log may still
        come in."""
        return self.agent_id == agent_id and self.attempt == attempt


def holders(db: sqlite_utils.Database, task_ids: Iterable[int]) -> dict[int, TaskHolder]:
    """Who holds each of ``task_ids`` (absent: no such task): one read, outside any write."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    rows = db.conn.execute(
        "SELECT id, agent_id, attempts, state, job_id FROM tasks"
        f" WHERE id IN ({', '.join('?' * len(ids))})",
        ids,
    )
    return {row[0]: TaskHolder(row[1], row[2], row[3], row[4]) for row in rows}


def renew_held(db: sqlite_utils.Database, renewals: Iterable[tuple[int, str, float]]) -> None:
    """Extends many leases at once, each ``(task_id, agent_id, expires_at)`` only while that
    agent holds the task; a lease never gets shorter."""
    db.conn.executemany(
        "UPDATE tasks SET lease_expires_at = max(coalesce(lease_expires_at, 0), ?)"
        " WHERE id = ? AND agent_id = ? AND state IN (?, ?)",
        [(expires, task_id, agent_id, *ACTIVE) for task_id, agent_id, expires in renewals],
    )


def set_progresses(
    db: sqlite_utils.Database, progress: Iterable[tuple[int, str, int, float]]
) -> None:
    """Many tasks' progress at once, each ``(task_id, agent_id, attempt, progress)`` only while
    that agent holds that attempt (``set_progress`` for a group commit)."""
    db.conn.executemany(
        "UPDATE tasks SET progress = ? WHERE id = ? AND agent_id = ? AND attempts = ?"
        " AND state IN (?, ?)",
        [(value, task_id, agent_id, attempt, *ACTIVE)
         for task_id, agent_id, attempt, value in progress],
    )  # fmt: skip


def expired_leases(db: sqlite_utils.Database, now: float) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT t.*, j.spec AS job_spec FROM tasks t JOIN jobs j ON j.id = t.job_id"
            " WHERE t.state IN (?, ?) AND t.lease_expires_at < ?",
            [*ACTIVE, now],
        )
    )


def extend_all_leases(db: sqlite_utils.Database, expires_at: float) -> int:
    """After a daemon restart: give every agent a full lease time to reach us again."""
    cursor = db.execute(
        "UPDATE tasks SET lease_expires_at = max(coalesce(lease_expires_at, 0), ?)"
        " WHERE state IN (?, ?)",
        [expires_at, *ACTIVE],
    )
    return cursor.rowcount


def split_queued(db: sqlite_utils.Database, task_id: int, keep: int) -> bool:
    """Keeps the first ``keep`` frames in a queued task and queues the rest as a new task.

    Cloud nodes take shorter tasks than the job was chunked in (a preemption then loses less).
    Compare-and-set: False when the task is no longer queued or already small enough.
    """
    task = get_task(db, task_id)
    if task is None or task["state"] != _QUEUED or task["frame_count"] <= keep:
        return False
    frames = json.loads(task["frames"])
    head, tail = frames[:keep], frames[keep:]
    cursor = db.execute(
        "UPDATE tasks SET frames = ?, frame_count = ? WHERE id = ? AND state = ?",
        [json.dumps(head), len(head), task_id, _QUEUED],
    )
    if cursor.rowcount != 1:
        return False
    last = next(
        iter(db.query("SELECT max(idx) AS i FROM tasks WHERE job_id = ?", [task["job_id"]]))
    )
    cursor = db.execute(
        "INSERT INTO tasks (job_id, idx, frames, frame_count, state, failures, min_memory_mb)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            task["job_id"], last["i"] + 1, json.dumps(tail), len(tail), _QUEUED,
            task["failures"], task["min_memory_mb"],
        ],
    )  # fmt: skip
    _copy_dependencies(db, task_id, int(cursor.lastrowid or 0))
    return True


def _copy_dependencies(db: sqlite_utils.Database, task_id: int, new_id: int) -> None:
    """The tail of a split task waits for what the task waited for, and whatever waited for
    the task's frames waits for its tail too."""
    db.execute(
        "INSERT OR IGNORE INTO task_dependencies (task_id, upstream_task_id)"
        " SELECT ?, upstream_task_id FROM task_dependencies WHERE task_id = ?",
        [new_id, task_id],
    )
    db.execute(
        "INSERT OR IGNORE INTO task_dependencies (task_id, upstream_task_id)"
        " SELECT task_id, ? FROM task_dependencies WHERE upstream_task_id = ?",
        [new_id, task_id],
    )


def first_queued(
    db: sqlite_utils.Database,
    job_id: int,
    *,
    now: float | None = None,
    memory_mb: int | None = None,
) -> dict[str, Any] | None:
    """The job's first queued task that is ready (``READY``) at ``now`` for a node with
    ``memory_mb``; None for either ignores licence waits or memory."""
    params = {
        "job": job_id,
        "now": float("inf") if now is None else now,
        "memory_mb": 2**62 if memory_mb is None else memory_mb,
    }
    rows = list(
        db.query(
            f"SELECT * FROM tasks t WHERE t.job_id = :job AND {READY} ORDER BY t.idx LIMIT 1",
            params,
        )
    )
    return rows[0] if rows else None
