"""Which nodes keep failing which jobs (``node_job_failures``); the lease query skips a job for
the nodes kept off it (``storage/queue.py``)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def count_failure(
    db: sqlite_utils.Database,
    job_id: int,
    agent_id: str,
    error: str,
    now: float,
    keep_off_at: int,
) -> tuple[int, bool]:
    """One more failure of the job on the node; at ``keep_off_at`` failures the node is kept
    off the job. Returns the node's failures of the job and whether it is kept off."""
    row = db.conn.execute(
        "INSERT INTO node_job_failures (job_id, agent_id, failures, kept_off, last_error, last_at)"
        " VALUES (:job, :agent, 1, 1 >= :at, :error, :now)"
        " ON CONFLICT (job_id, agent_id) DO UPDATE SET failures = failures + 1,"
        " kept_off = max(kept_off, failures + 1 >= :at),"
        " last_error = excluded.last_error, last_at = excluded.last_at"
        " RETURNING failures, kept_off",
        {"job": job_id, "agent": agent_id, "at": keep_off_at, "error": error[-2000:], "now": now},
    ).fetchone()
    return int(row[0]), bool(row[1])


def kept_off(db: sqlite_utils.Database, job_id: int) -> list[dict[str, Any]]:
    """The nodes kept off the job, by name."""
    return list(
        db.query(
            "SELECT f.agent_id, a.name, f.failures, f.last_error FROM node_job_failures f"
            " JOIN agents a ON a.id = f.agent_id"
            " WHERE f.job_id = ? AND f.kept_off = 1 ORDER BY a.name, f.agent_id",
            [job_id],
        )
    )


def clear(db: sqlite_utils.Database, job_id: int, agent_id: str) -> bool:
    """Lets the node take the job again, its count of failures started afresh; False when the
    node was not kept off the job."""
    cursor = db.execute(
        "DELETE FROM node_job_failures WHERE job_id = ? AND agent_id = ? AND kept_off = 1",
        [job_id, agent_id],
    )
    return cursor.rowcount == 1
