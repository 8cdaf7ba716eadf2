"""Agents' credentials: one-time enrollment tokens and each agent's own token."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from daemon.storage.db import one_row


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
    return one_row(db, "SELECT id, name FROM agents WHERE token_hash = ?", [token_hash])


def set_agent_token(db: sqlite_utils.Database, agent_id: str, token_hash: str) -> None:
    db.execute("UPDATE agents SET token_hash = ? WHERE id = ?", [token_hash, agent_id])
