"""Idempotency keys of submissions: which job a caller's key named, and its first answer."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class KeptKey:
    """A key a caller sent before: the request it came with and the job it made."""

    request_hash: str
    job_id: int
    response: str | None
    """The first answer's data as JSON; None when the daemon stopped before keeping it."""


def find(db: sqlite_utils.Database, caller: str, key: str) -> KeptKey | None:
    row = db.conn.execute(
        "SELECT request_hash, job_id, response FROM idempotency_keys WHERE caller = ? AND key = ?",
        [caller, key],
    ).fetchone()
    return None if row is None else KeptKey(row[0], row[1], row[2])


def insert(
    db: sqlite_utils.Database, caller: str, key: str, request_hash: str, job_id: int, now: float
) -> None:
    """Records the key with its job; call in the transaction that stores the job."""
    db.execute(
        "INSERT INTO idempotency_keys (caller, key, request_hash, job_id, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [caller, key, request_hash, job_id, now],
    )


def keep_response(db: sqlite_utils.Database, caller: str, key: str, response: str) -> None:
    db.execute(
        "UPDATE idempotency_keys SET response = ? WHERE caller = ? AND key = ?",
        [response, caller, key],
    )


def purge(db: sqlite_utils.Database, before: float) -> int:
    """Forgets the keys recorded before ``before``; returns how many."""
    return db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", [before]).rowcount
