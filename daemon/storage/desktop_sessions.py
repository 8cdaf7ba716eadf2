"""Desktop sessions, the broker's one-time connection tokens and what ended sessions cost.

Every change of a session's state is a compare-and-set on its current state: a pass and a
person racing to end one session cannot both win.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils

from common.models import LIVE_SESSION_STATES
from daemon.storage.db import one_row

_LIVE = ", ".join(f"'{state}'" for state in LIVE_SESSION_STATES)


def insert_session(db: sqlite_utils.Database, row: dict[str, Any]) -> int:
    """A new ``provisioning`` session; returns its id."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = db.conn.execute(
        f"INSERT INTO desktop_sessions ({columns}) VALUES ({marks})", list(row.values())
    )
    return int(cursor.lastrowid or 0)


def get_session(db: sqlite_utils.Database, session_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM desktop_sessions WHERE id = ?", [session_id])


def list_sessions(
    db: sqlite_utils.Database,
    *,
    user_name: str | None = None,
    user_id: int | None = None,
    state: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Sessions matching every filter given, newest first."""
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (("user_name", user_name), ("user_id", user_id), ("state", state)):
        if value is not None:
            clauses.append(f"{column} = ?")
            args.append(value)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return list(
        db.query(f"SELECT * FROM desktop_sessions{where} ORDER BY id DESC LIMIT ?", [*args, limit])
    )


def live_sessions(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Sessions that have not ended (or failed), oldest first, with ``user_active`` (their
    user is active and not deleted)."""
    return list(
        db.query(
            "SELECT s.*, (u.active = 1 AND u.deleted_at IS NULL) AS user_active"
            f" FROM desktop_sessions s JOIN users u ON u.id = s.user_id"
            f" WHERE s.state IN ({_LIVE}) ORDER BY s.id"
        )
    )


def count_live(db: sqlite_utils.Database, user_name: str) -> int:
    row = one_row(
        db,
        f"SELECT COUNT(*) AS n FROM desktop_sessions WHERE user_name = ? AND state IN ({_LIVE})",
        [user_name],
    )
    return int(row["n"]) if row else 0


def move(
    db: sqlite_utils.Database,
    session_id: int,
    from_states: Iterable[str],
    **fields: Any,
) -> bool:
    """Sets ``fields`` if the session is in one of ``from_states``; False when it was not (a
    lost race: someone else moved it first)."""
    states = list(from_states)
    assignments = ", ".join(f"{name} = ?" for name in fields)
    marks = ", ".join("?" for _ in states)
    cursor = db.conn.execute(
        f"UPDATE desktop_sessions SET {assignments} WHERE id = ? AND state IN ({marks})",
        [*fields.values(), session_id, *states],
    )
    return cursor.rowcount == 1


def set_instance(db: sqlite_utils.Database, session_id: int, instance_id: str) -> bool:
    """Records the instance launched for a session (once)."""
    cursor = db.conn.execute(
        "UPDATE desktop_sessions SET instance_id = ? WHERE id = ? AND instance_id IS NULL",
        [instance_id, session_id],
    )
    return cursor.rowcount == 1


def sessions_of_instances(
    db: sqlite_utils.Database, instance_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The session of each instance id that one names."""
    ids = list(instance_ids)
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = db.query(f"SELECT * FROM desktop_sessions WHERE instance_id IN ({marks})", ids)
    return {row["instance_id"]: row for row in rows}


# --- the broker's one-time connection tokens -----------------------------------------------------


def insert_token(
    db: sqlite_utils.Database,
    token_hash: str,
    session_id: int,
    user_name: str,
    now: float,
    expires_at: float,
) -> None:
    db.conn.execute(
        "INSERT INTO connection_tokens (token_hash, session_id, user_name, created_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?)",
        [token_hash, session_id, user_name, now, expires_at],
    )


def use_token(db: sqlite_utils.Database, token_hash: str, session_id: int, now: float) -> bool:
    """Marks the token used if it is this session's, unused and unexpired: a compare-and-set,
    so a token is good once however many desktops race to redeem it."""
    cursor = db.conn.execute(
        "UPDATE connection_tokens SET used_at = ? WHERE token_hash = ? AND session_id = ?"
        " AND used_at IS NULL AND expires_at > ?",
        [now, token_hash, session_id, now],
    )
    return cursor.rowcount == 1


def purge_tokens(db: sqlite_utils.Database, expired_before: float) -> int:
    """Forgets tokens expired before ``expired_before`` (they are refused either way)."""
    cursor = db.conn.execute("DELETE FROM connection_tokens WHERE expires_at < ?", [expired_before])
    return cursor.rowcount


# --- what sessions cost --------------------------------------------------------------------------


def book_usage(
    db: sqlite_utils.Database,
    session_id: int,
    user_name: str,
    project: str,
    seconds: float,
    cost: float,
    now: float,
) -> None:
    """Books an ended session's cost once (a second booking of one session is ignored)."""
    db.conn.execute(
        "INSERT INTO desktop_usage (session_id, user_name, project, seconds, cost, booked_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING",
        [session_id, user_name, project, seconds, cost, now],
    )
    db.conn.execute("UPDATE desktop_sessions SET cost = ? WHERE id = ?", [cost, session_id])


def booked_by_project(db: sqlite_utils.Database) -> dict[str, float]:
    """What ended sessions cost, per project."""
    rows = db.query("SELECT project, SUM(cost) AS cost FROM desktop_usage GROUP BY project")
    return {row["project"]: float(row["cost"] or 0.0) for row in rows}


def launched_live_sessions(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Live sessions with an instance (they cost money now)."""
    return list(
        db.query(
            f"SELECT * FROM desktop_sessions WHERE state IN ({_LIVE})"
            " AND instance_id IS NOT NULL ORDER BY id"
        )
    )
