"""The desktop audit log: every session and snapshot action, appended in the action's own
transaction, never changed nor deleted (the table's triggers refuse it)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def append(
    db: sqlite_utils.Database,
    *,
    at: float,
    actor: str,
    action: str,
    user_name: str = "",
    session_id: int | None = None,
    snapshot_id: int | None = None,
    detail: str = "",
) -> None:
    """Appends one record: ``actor`` (a user's name, or ``daemon``) did ``action``
    (``session.start``, ``session.connect``, ``snapshot.create``...) to ``user_name``'s session
    or snapshot."""
    db.conn.execute(
        "INSERT INTO desktop_audit (at, actor, action, session_id, snapshot_id, user_name, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, actor, action, session_id, snapshot_id, user_name, detail),
    )


def records(
    db: sqlite_utils.Database,
    *,
    session_id: int | None = None,
    snapshot_id: int | None = None,
    user_name: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Records matching every filter given, newest first."""
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("session_id", session_id),
        ("snapshot_id", snapshot_id),
        ("user_name", user_name),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    if before_id is not None:
        clauses.append("id < ?")
        args.append(before_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return list(
        db.query(f"SELECT * FROM desktop_audit{where} ORDER BY id DESC LIMIT ?", [*args, limit])
    )
