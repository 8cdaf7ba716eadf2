"""What a signed-in person holds: sessions, their one-time refresh tokens, and API keys."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from daemon.storage.db import one_row


def insert_session(db: sqlite_utils.Database, session_id: str, user_id: int, now: float) -> None:
    db.execute(
        "INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)",
        [session_id, user_id, now],
    )


def get_session(db: sqlite_utils.Database, session_id: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM sessions WHERE id = ?", [session_id])


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
    return one_row(db, "SELECT * FROM refresh_tokens WHERE token_hash = ?", [token_hash])


def use_refresh(db: sqlite_utils.Database, token_hash: str, now: float) -> bool:
    """Marks a refresh token used (compare-and-set); False if it was used already."""
    cursor = db.execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        [now, token_hash],
    )
    return cursor.rowcount == 1


def insert_api_key(
    db: sqlite_utils.Database, token_hash: str, user_id: int, label: str, now: float
) -> None:
    db.execute(
        "INSERT INTO api_keys (token_hash, user_id, label, created_at) VALUES (?, ?, ?, ?)",
        [token_hash, user_id, label, now],
    )


def api_key_user(db: sqlite_utils.Database, token_hash: str) -> int | None:
    row = one_row(
        db, "SELECT user_id FROM api_keys WHERE token_hash = ? AND revoked_at IS NULL", [token_hash]
    )
    return None if row is None else int(row["user_id"])
