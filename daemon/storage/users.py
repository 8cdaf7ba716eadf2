"""User accounts: the people who sign in, their roles, and who is still an active admin."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from daemon.storage.db import one_row


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
    return one_row(db, "SELECT * FROM users WHERE id = ?", [user_id])


def user_by_name(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM users WHERE name = ?", [name])


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
    row = one_row(
        db,
        "SELECT count(*) AS n FROM users WHERE role = ? AND active = 1 AND deleted_at IS NULL"
        " AND id != ?",
        [role, other_than],
    )
    return int(row["n"]) if row else 0


def count_users(db: sqlite_utils.Database) -> int:
    row = one_row(db, "SELECT count(*) AS n FROM users", [])
    return int(row["n"]) if row else 0
