"""Webhooks, the outbox of their deliveries, and the shows told their budget is spent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from daemon.storage.db import one_row

_HOOK = (
    "SELECT w.*, u.name AS owner, u.role AS owner_role FROM webhooks w"
    " JOIN users u ON u.id = w.user_id"
)


def insert_webhook(db: sqlite_utils.Database, fields: dict[str, Any]) -> int:
    cursor = db.execute(
        "INSERT INTO webhooks (user_id, url, events, format, scope, project, secret,"
        " description, created_at) VALUES (:user_id, :url, :events, :format, :scope, :project,"
        " :secret, :description, :created_at)",
        fields,
    )
    return int(cursor.lastrowid or 0)


def get_webhook(db: sqlite_utils.Database, webhook_id: int) -> dict[str, Any] | None:
    return one_row(db, f"{_HOOK} WHERE w.id = ?", [webhook_id])


def list_webhooks(db: sqlite_utils.Database, user_id: int | None) -> list[dict[str, Any]]:
    """The webhooks of one user (None: everyone's), oldest first."""
    if user_id is None:
        return list(db.query(f"{_HOOK} ORDER BY w.id"))
    return list(db.query(f"{_HOOK} WHERE w.user_id = ? ORDER BY w.id", [user_id]))


def count_of_user(db: sqlite_utils.Database, user_id: int) -> int:
    row = db.conn.execute("SELECT count(*) FROM webhooks WHERE user_id = ?", [user_id]).fetchone()
    return int(row[0])


def delete_webhook(db: sqlite_utils.Database, webhook_id: int) -> bool:
    """Deletes a webhook and its deliveries; False when there was none."""
    return db.execute("DELETE FROM webhooks WHERE id = ?", [webhook_id]).rowcount > 0


def subscribers(db: sqlite_utils.Database, owner: str, project: str) -> list[dict[str, Any]]:
    """The webhooks of active people that may hear of a job of ``owner`` in ``project``: the
    owner's own, and the show's. The caller still checks each one's events and role."""
    return list(
        db.query(
            f"{_HOOK} WHERE u.active = 1 AND u.deleted_at IS NULL AND ("
            " (w.scope = 'user' AND u.name = ?) OR (w.scope = 'show' AND w.project = ?))"
            " ORDER BY w.id",
            [owner, project],
        )
    )


def show_subscribers(db: sqlite_utils.Database, project: str) -> list[dict[str, Any]]:
    """The show webhooks of ``project`` whose owners are active."""
    return list(
        db.query(
            f"{_HOOK} WHERE u.active = 1 AND u.deleted_at IS NULL AND w.scope = 'show'"
            " AND w.project = ? ORDER BY w.id",
            [project],
        )
    )


def job_facts(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    """What a notification says of a job."""
    return one_row(
        db, "SELECT id, name, owner, project, state, message FROM jobs WHERE id = ?", [job_id]
    )


# --- the outbox ---------------------------------------------------------------------------


def pending_count(db: sqlite_utils.Database) -> int:
    row = db.conn.execute(
        "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"
    ).fetchone()
    return int(row[0])


def enqueue(db: sqlite_utils.Database, fields: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO webhook_deliveries (webhook_id, event, job_id, project, body, created_at,"
        " next_attempt_at) VALUES (:webhook_id, :event, :job_id, :project, :body, :created_at,"
        " :created_at)",
        fields,
    )


def told_since(db: sqlite_utils.Database, job_id: int, event: str, since: float) -> bool:
    """Whether ``event`` of the job was put in the outbox after ``since``."""
    row = db.conn.execute(
        "SELECT 1 FROM webhook_deliveries WHERE job_id = ? AND event = ? AND created_at > ?"
        " LIMIT 1",
        [job_id, event, since],
    ).fetchone()
    return row is not None


def due(db: sqlite_utils.Database, now: float, limit: int) -> list[dict[str, Any]]:
    """Pending deliveries whose time has come, oldest first, with their webhook's address,
    format and secret."""
    return list(
        db.query(
            "SELECT d.*, w.url, w.secret FROM webhook_deliveries d"
            " JOIN webhooks w ON w.id = d.webhook_id"
            " WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT ?",
            [now, limit],
        )
    )


def record_try(
    db: sqlite_utils.Database,
    delivery_id: int,
    *,
    state: str,
    status: int | None,
    error: str,
    next_attempt_at: float,
    now: float,
) -> bool:
    """Records one try of a pending delivery (compare-and-set on ``pending``)."""
    done_at = None if state == "pending" else now
    cursor = db.execute(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, state = ?, last_status = ?,"
        " last_error = ?, next_attempt_at = ?, done_at = ? WHERE id = ? AND state = 'pending'",
        [state, status, error[:500], next_attempt_at, done_at, delivery_id],
    )
    return cursor.rowcount > 0


def recent(
    db: sqlite_utils.Database, webhook_ids: Sequence[int], per_webhook: int
) -> dict[int, list[dict[str, Any]]]:
    """The latest deliveries of each webhook, newest first."""
    found: dict[int, list[dict[str, Any]]] = {webhook_id: [] for webhook_id in webhook_ids}
    for webhook_id in webhook_ids:
        found[webhook_id] = list(
            db.query(
                "SELECT id, event, job_id, state, attempts, last_status, last_error, created_at,"
                " next_attempt_at, done_at FROM webhook_deliveries WHERE webhook_id = ?"
                " ORDER BY id DESC LIMIT ?",
                [webhook_id, per_webhook],
            )
        )
    return found


def purge(db: sqlite_utils.Database, before: float) -> int:
    """Forgets deliveries that ended before ``before``."""
    return db.execute(
        "DELETE FROM webhook_deliveries WHERE state != 'pending' AND done_at < ?", [before]
    ).rowcount


# --- shows told their budget is spent -----------------------------------------------------


def budget_alerted(db: sqlite_utils.Database) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT project FROM budget_alerts")}


def mark_budget_alerted(db: sqlite_utils.Database, project: str, now: float) -> None:
    db.execute(
        "INSERT OR IGNORE INTO budget_alerts (project, reached_at) VALUES (?, ?)", [project, now]
    )


def clear_budget_alerts(db: sqlite_utils.Database, projects: Sequence[str]) -> None:
    db.conn.executemany("DELETE FROM budget_alerts WHERE project = ?", [(p,) for p in projects])
