"""Jobs' files in the object store (``job_data``), the append-only audit log, and frames
rendered away from studio storage (``task_outputs``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

# --- staging -------------------------------------------------------------------------------------


def insert_pending(db: sqlite_utils.Database, job_id: int, now: float) -> None:
    """Queues a job for staging (again, when it was staged or failed before)."""
    db.execute(
        "INSERT INTO job_data (job_id, state, updated_at) VALUES (?, 'pending', ?)"
        " ON CONFLICT (job_id) DO UPDATE SET state = 'pending', attempts = 0, error = '',"
        " updated_at = excluded.updated_at",
        [job_id, now],
    )


def get_job_data(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM job_data WHERE job_id = ?", [job_id]))
    return rows[0] if rows else None


def next_pending(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """The oldest job waiting to be staged whose job is not finished."""
    rows = list(
        db.query(
            "SELECT d.*, j.owner, j.spec FROM job_data d JOIN jobs j ON j.id = d.job_id"
            " WHERE d.state = 'pending' AND j.state IN ('queued', 'waiting', 'running', 'paused')"
            " ORDER BY d.job_id LIMIT 1"
        )
    )
    return rows[0] if rows else None


def claim_pending(db: sqlite_utils.Database, job_id: int, now: float) -> bool:
    """Compare-and-set pending -> staging; counts the attempt."""
    cursor = db.execute(
        "UPDATE job_data SET state = 'staging', attempts = attempts + 1, updated_at = ?"
        " WHERE job_id = ? AND state = 'pending'",
        [now, job_id],
    )
    return cursor.rowcount == 1


def record_manifest(
    db: sqlite_utils.Database, job_id: int, manifest: str, files: int, size: int, now: float
) -> None:
    db.execute(
        "UPDATE job_data SET manifest = ?, files = ?, bytes_total = ?, updated_at = ?"
        " WHERE job_id = ?",
        [manifest, files, size, now, job_id],
    )


def mark_staged(
    db: sqlite_utils.Database,
    job_id: int,
    *,
    blobs_sent: int,
    bytes_sent: int,
    destination: str,
    now: float,
) -> None:
    db.execute(
        "UPDATE job_data SET state = 'staged', blobs_sent = ?, bytes_sent = ?, destination = ?,"
        " error = '', staged_at = ?, updated_at = ? WHERE job_id = ? AND state = 'staging'",
        [blobs_sent, bytes_sent, destination, now, now, job_id],
    )


def mark_unstaged(
    db: sqlite_utils.Database, job_id: int, state: str, error: str, now: float
) -> None:
    """Back to ``pending`` (to be tried again) or ``failed`` (given up), with why."""
    db.execute(
        "UPDATE job_data SET state = ?, error = ?, updated_at = ? WHERE job_id = ?",
        [state, error[:4000], now, job_id],
    )


def reset_interrupted(db: sqlite_utils.Database, now: float) -> int:
    """Jobs left ``staging`` by a daemon that stopped midway go back to ``pending``."""
    cursor = db.execute(
        "UPDATE job_data SET state = 'pending', updated_at = ? WHERE state = 'staging'", [now]
    )
    return cursor.rowcount


def manifest_of(db: sqlite_utils.Database, job_id: int) -> tuple[str, str] | None:
    """A staged job's manifest JSON and where it was staged to; None if not staged."""
    rows = list(
        db.query(
            "SELECT manifest, destination FROM job_data WHERE job_id = ? AND state = 'staged'",
            [job_id],
        )
    )
    return (rows[0]["manifest"], rows[0]["destination"]) if rows else None


# --- the audit log -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Filters of ``GET /audit``; None means any."""

    job_id: int | None = None
    user: str | None = None
    since: float | None = None
    until: float | None = None
    offset: int = 0
    limit: int = 100


def append_audit(db: sqlite_utils.Database, rows: Iterable[tuple[Any, ...]]) -> None:
    """Appends (at, job_id, user, path, hash, size, destination, transferred) rows."""
    db.conn.executemany(
        "INSERT INTO audit_log (at, job_id, user, path, hash, size, destination, transferred)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def list_audit(db: sqlite_utils.Database, where: AuditFilter) -> tuple[list[dict[str, Any]], int]:
    """A page of the audit log, newest first, and how many records match."""
    clauses: list[str] = []
    args: list[Any] = []
    for column, op, value in (
        ("job_id", "=", where.job_id),
        ("user", "=", where.user),
        ("at", ">=", where.since),
        ("at", "<", where.until),
    ):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            args.append(value)
    sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    total = next(iter(db.query(f"SELECT count(*) AS n FROM audit_log{sql_where}", args)))["n"]
    rows = list(
        db.query(
            f"SELECT * FROM audit_log{sql_where} ORDER BY id DESC LIMIT ? OFFSET ?",
            [*args, where.limit, where.offset],
        )
    )
    return rows, int(total)


# --- frames coming home --------------------------------------------------------------------------


def add_outputs(
    db: sqlite_utils.Database, task_id: int, job_id: int, blobs: Iterable[tuple[str, str, int]]
) -> None:
    """Records (path, hash, size) of frames a task uploaded; a frame re-rendered replaces."""
    db.conn.executemany(
        "INSERT INTO task_outputs (task_id, job_id, path, hash, size, state)"
        " VALUES (?, ?, ?, ?, ?, 'away')"
        " ON CONFLICT (task_id, path) DO UPDATE SET hash = excluded.hash, size = excluded.size,"
        " state = 'away', attempts = 0, error = '', home_at = NULL",
        ((task_id, job_id, path, digest, size) for path, digest, size in blobs),
    )


def outputs_away(db: sqlite_utils.Database, limit: int) -> list[dict[str, Any]]:
    """Frames waiting to come home, oldest tasks first, of jobs not cancelled."""
    return list(
        db.query(
            "SELECT o.* FROM task_outputs o JOIN jobs j ON j.id = o.job_id"
            " WHERE o.state = 'away' AND j.state != 'cancelled'"
            " ORDER BY o.task_id, o.path LIMIT ?",
            [limit],
        )
    )


def mark_output(
    db: sqlite_utils.Database,
    task_id: int,
    path: str,
    state: str,
    *,
    error: str = "",
    home_at: float | None = None,
) -> None:
    db.execute(
        "UPDATE task_outputs SET state = ?, error = ?, home_at = ?, attempts = attempts + 1"
        " WHERE task_id = ? AND path = ?",
        [state, error[:4000], home_at, task_id, path],
    )


def count_outputs(db: sqlite_utils.Database, job_id: int) -> dict[str, int]:
    """How many of the job's uploaded frames are away, home and failed."""
    counts = {"away": 0, "home": 0, "failed": 0}
    for row in db.query(
        "SELECT state, count(*) AS n FROM task_outputs WHERE job_id = ? GROUP BY state", [job_id]
    ):
        counts[row["state"]] = row["n"]
    return counts


def drop_task_outputs(db: sqlite_utils.Database, task_id: int) -> None:
    """Forgets a task's uploaded frames (the task renders again)."""
    db.execute("DELETE FROM task_outputs WHERE task_id = ?", [task_id])
