"""Boot volume snapshots of desktop sessions and the sessions snapshotted every day: the only
SQL of ``desktop_snapshots`` and ``snapshot_schedules`` (the sessions themselves are
``storage/desktop_sessions.py``'s)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from common.models import READY_SESSION_STATES
from daemon.storage.db import one_row

#: Snapshots whose backup the cloud still holds (or is making): what retention weighs.
HELD_STATES = ("creating", "available")


def insert_snapshot(db: sqlite_utils.Database, fields: dict[str, Any]) -> int:
    cursor = db.execute(
        "INSERT INTO desktop_snapshots (session_id, instance_id, user_id, user_name, project,"
        " profile, description, kind, scheduled, state, backup_id, size_gb, detail, created_at,"
        " created_by) VALUES (:session_id, :instance_id, :user_id, :user_name, :project,"
        " :profile, :description, :kind, :scheduled, :state, :backup_id, :size_gb, :detail,"
        " :created_at, :created_by)",
        fields,
    )
    return int(cursor.lastrowid or 0)


def get_snapshot(db: sqlite_utils.Database, snapshot_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM desktop_snapshots WHERE id = ?", [snapshot_id])


def list_snapshots(
    db: sqlite_utils.Database, *, user_name: str | None = None, session_id: int | None = None
) -> list[dict[str, Any]]:
    """The snapshots not deleted, newest first, of one person and/or one session (None: all)."""
    clauses = ["state != 'deleted'"]
    args: list[Any] = []
    if user_name is not None:
        clauses.append("user_name = ?")
        args.append(user_name)
    if session_id is not None:
        clauses.append("session_id = ?")
        args.append(session_id)
    return list(
        db.query(
            f"SELECT * FROM desktop_snapshots WHERE {' AND '.join(clauses)}"
            " ORDER BY created_at DESC, id DESC",
            args,
        )
    )


def in_state(db: sqlite_utils.Database, state: str) -> list[dict[str, Any]]:
    """Every snapshot in ``state``, oldest first."""
    return list(db.query("SELECT * FROM desktop_snapshots WHERE state = ? ORDER BY id", [state]))


def move(
    db: sqlite_utils.Database,
    snapshot_id: int,
    from_states: Sequence[str],
    to_state: str,
    **fields: Any,
) -> bool:
    """Compare-and-set: moves the snapshot to ``to_state`` (and sets ``fields``) only while it
    is in one of ``from_states``; False when it was not (someone else moved it first)."""
    sets = ", ".join(["state = ?", *(f"{name} = ?" for name in fields)])
    marks = ", ".join("?" for _ in from_states)
    cursor = db.execute(
        f"UPDATE desktop_snapshots SET {sets} WHERE id = ? AND state IN ({marks})",
        [to_state, *fields.values(), snapshot_id, *from_states],
    )
    return cursor.rowcount == 1


# --- the daily schedule ----------------------------------------------------------------------


def add_schedule(db: sqlite_utils.Database, session_id: int, at: float, by: str) -> bool:
    """Snapshots the session every day from now on; False when it already was."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO snapshot_schedules (session_id, created_at, created_by)"
        " VALUES (?, ?, ?)",
        [session_id, at, by],
    )
    return cursor.rowcount == 1


def remove_schedule(db: sqlite_utils.Database, session_id: int) -> bool:
    """Snapshots the session no more every day; False when it was not."""
    cursor = db.execute("DELETE FROM snapshot_schedules WHERE session_id = ?", [session_id])
    return cursor.rowcount == 1


def scheduled_sessions(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The scheduled sessions whose desktop runs (whose, its profile and project, its instance
    and state) with ``scheduled_at``
    (when the schedule began) and ``last_at`` (its newest scheduled snapshot, failed ones
    too: one try a day, the failure being in the audit log)."""
    marks = ", ".join("?" for _ in READY_SESSION_STATES)
    return list(
        db.query(
            "SELECT s.id, s.user_id, s.user_name, s.project, s.profile, s.instance_id, s.state,"
            " k.created_at AS scheduled_at,"
            " (SELECT max(p.created_at) FROM desktop_snapshots p WHERE p.session_id = s.id"
            "  AND p.scheduled = 1) AS last_at"
            " FROM snapshot_schedules k JOIN desktop_sessions s ON s.id = k.session_id"
            f" WHERE s.state IN ({marks}) AND s.instance_id IS NOT NULL ORDER BY s.id",
            list(READY_SESSION_STATES),
        )
    )


def held_scheduled(db: sqlite_utils.Database, session_id: int) -> list[dict[str, Any]]:
    """A session's scheduled snapshots whose backup the cloud holds (or is making), oldest
    first: what the policy chooses the next kind from and retention weighs."""
    marks = ", ".join("?" for _ in HELD_STATES)
    return list(
        db.query(
            "SELECT * FROM desktop_snapshots WHERE session_id = ? AND scheduled = 1"
            f" AND state IN ({marks}) ORDER BY created_at, id",
            [session_id, *HELD_STATES],
        )
    )
