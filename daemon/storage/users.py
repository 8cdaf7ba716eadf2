"""Users, sessions, refresh tokens, API keys, enrollment tokens and confidential projects."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def _one(db: sqlite_utils.Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


# --- users -------------------------------------------------------------------------------


def insert_user(
    db: sqlite_utils.Database, name: str, role: str, password_hash: str | None, active: bool,
    now: float,
) -> int:  # fmt: skip
    cursor = db.execute(
        "INSERT INTO users (name, role, password_hash, active, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [name, role, password_hash, int(active), now, now],
    )
    return int(cursor.lastrowid or 0)


def get_user(db: sqlite_utils.Database, user_id: int) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM users WHERE id = ?", [user_id])


def user_by_name(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM users WHERE name = ?", [name])


def list_users(db: sqlite_utils.Database, include_deleted: bool) -> list[dict[str, Any]]:
    where = "" if include_deleted else " WHERE deleted_at IS NULL"
    return list(db.query(f"SELECT * FROM users{where} ORDER BY name"))


def update_user(db: sqlite_utils.Database, user_id: int, now: float, **fields: Any) -> None:
    sets = ", ".join(f"{key} = ?" for key in fields)
    db.execute(
        f"UPDATE users SET {sets}, updated_at = ? WHERE id = ?", [*fields.values(), now, user_id]
    )


def count_active(db: sqlite_utils.Database, role: str, other_than: int) -> int:
    """Active, undeleted users holding ``role``, besides user ``other_than``."""
    row = _one(
        db,
        "SELECT count(*) AS n FROM users WHERE role = ? AND active = 1 AND deleted_at IS NULL"
        " AND id != ?",
        [role, other_than],
    )
    return int(row["n"]) if row else 0


def count_users(db: sqlite_utils.Database) -> int:
    row = _one(db, "SELECT count(*) AS n FROM users", [])
    return int(row["n"]) if row else 0


# --- sessions and refresh tokens -----------------------------------------------------------


def insert_session(db: sqlite_utils.Database, session_id: str, user_id: int, now: float) -> None:
    db.execute(
        "INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)",
        [session_id, user_id, now],
    )


def get_session(db: sqlite_utils.Database, session_id: str) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM sessions WHERE id = ?", [session_id])


def revoke_session(db: sqlite_utils.Database, session_id: str, now: float) -> None:
    db.execute(
        "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [now, session_id]
    )


def revoke_user_sessions(db: sqlite_utils.Database, user_id: int, now: float) -> None:
    db.execute(
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        [now, user_id],
    )


def insert_refresh(
    db: sqlite_utils.Database, token_hash: str, session_id: str, expires_at: float
) -> None:
    db.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES (?, ?, ?)",
        [token_hash, session_id, expires_at],
    )


def get_refresh(db: sqlite_utils.Database, token_hash: str) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM refresh_tokens WHERE token_hash = ?", [token_hash])


def use_refresh(db: sqlite_utils.Database, token_hash: str, now: float) -> bool:
    """Marks a refresh token used (compare-and-set); False if it was used already."""
    cursor = db.execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        [now, token_hash],
    )
    return cursor.rowcount == 1


# --- API keys and enrollment tokens ------------------------------------------------------


def insert_api_key(
    db: sqlite_utils.Database, token_hash: str, user_id: int, label: str, now: float
) -> None:
    db.execute(
        "INSERT INTO api_keys (token_hash, user_id, label, created_at) VALUES (?, ?, ?, ?)",
        [token_hash, user_id, label, now],
    )


def api_key_user(db: sqlite_utils.Database, token_hash: str) -> int | None:
    row = _one(
        db, "SELECT user_id FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL", [token_hash]
    )
    return None if row is None else int(row["user_id"])


def insert_enrollment(
    db: sqlite_utils.Database, token_hash: str, by: str, now: float, expires_at: float
) -> None:
    db.execute(
        "INSERT INTO enrollment_tokens (token_hash, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?)",
        [token_hash, by, now, expires_at],
    )


def use_enrollment(db: sqlite_utils.Database, token_hash: str, agent_id: str, now: float) -> bool:
    """Spends an unexpired, unused enrollment token (compare-and-set)."""
    cursor = db.execute(
        "UPDATE enrollment_tokens SET used_at = ?, agent_id = ? WHERE token_hash = ?"
        " AND used_at IS NULL AND expires_at > ?",
        [now, agent_id, token_hash, now],
    )
    return cursor.rowcount == 1


def agent_by_token(db: sqlite_utils.Database, token_hash: str) -> dict[str, Any] | None:
    return _one(db, "SELECT id, name FROM agents WHERE token_hash = ?", [token_hash])


def set_agent_token(db: sqlite_utils.Database, agent_id: str, token_hash: str) -> None:
    db.execute("UPDATE agents SET token_hash = ? WHERE id = ?", [token_hash, agent_id])


# --- projects ------------------------------------------------------------------------------


def set_confidential(
    db: sqlite_utils.Database, name: str, confidential: bool, by: str, now: float
) -> None:
    db.execute(
        "INSERT INTO projects (name, confidential, updated_by, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET confidential = excluded.confidential,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        [name, int(confidential), by, now],
    )


def get_project(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    return _one(db, "SELECT * FROM projects WHERE name = ?", [name])


def list_projects(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM projects ORDER BY name"))


def unfinished_jobs_of(db: sqlite_utils.Database, project: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT id, spec FROM jobs WHERE project = ? AND state IN ('queued', 'running',"
            " 'paused')",
            [project],
        )
    )


def set_job_spec(db: sqlite_utils.Database, job_id: int, spec_json: str) -> None:
    db.execute("UPDATE jobs SET spec = ? WHERE id = ?", [spec_json, job_id])
