"""Agents table and task logs."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from common.models import AgentRegistration


def insert_agent(
    db: sqlite_utils.Database, agent_id: str, registration: AgentRegistration, now: float
) -> None:
    db.execute(
        "INSERT INTO agents (id, name, hostname, dccs, pool, cores, memory_mb, state,"
        " registered_at, last_seen, studio_access)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'online', ?, ?, ?)",
        [
            agent_id,
            registration.name,
            registration.hostname,
            json.dumps(registration.dccs),
            registration.pool,
            registration.cores,
            registration.memory_mb,
            now,
            now,
            int(registration.studio_access),
        ],
    )


def get_agent(db: sqlite_utils.Database, agent_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM agents WHERE id = ?", [agent_id]))
    return rows[0] if rows else None


def list_agents(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM agents ORDER BY name, id"))


def touch_agent(db: sqlite_utils.Database, agent_id: str, now: float) -> bool:
    cursor = db.execute(
        "UPDATE agents SET last_seen = ?, state = 'online' WHERE id = ?", [now, agent_id]
    )
    return cursor.rowcount == 1


def mark_silent_agents_offline(db: sqlite_utils.Database, silent_since: float) -> int:
    cursor = db.execute(
        "UPDATE agents SET state = 'offline' WHERE state = 'online' AND last_seen < ?",
        [silent_since],
    )
    return cursor.rowcount


def append_log(
    db: sqlite_utils.Database, task_id: int, attempt: int, offset: int, text: str
) -> None:
    """Appends text at ``offset`` of the attempt's log; a resent chunk is not written twice."""
    length = log_length(db, task_id, attempt)
    if offset + len(text) <= length:
        return  # already have it
    if offset > length:
        offset, text = length, f"[... {offset - length} characters lost ...]\n{text}"
    elif offset < length:
        text = text[length - offset :]
        offset = length
    db.execute(
        "INSERT INTO task_logs (task_id, attempt, offset, text) VALUES (?, ?, ?, ?)",
        [task_id, attempt, offset, text],
    )


def log_length(db: sqlite_utils.Database, task_id: int, attempt: int) -> int:
    row = next(
        iter(
            db.query(
                "SELECT coalesce(max(offset + length(text)), 0) AS n FROM task_logs"
                " WHERE task_id = ? AND attempt = ?",
                [task_id, attempt],
            )
        )
    )
    return int(row["n"])


def read_log(db: sqlite_utils.Database, task_id: int, attempt: int, offset: int) -> str:
    """The attempt's log from character ``offset`` on."""
    pieces = []
    for row in db.query(
        "SELECT offset, text FROM task_logs WHERE task_id = ? AND attempt = ?"
        " AND offset + length(text) > ? ORDER BY offset",
        [task_id, attempt, offset],
    ):
        start = max(0, offset - row["offset"])
        pieces.append(row["text"][start:])
    return "".join(pieces)


def update_agent(
    db: sqlite_utils.Database, agent_id: str, registration: AgentRegistration, now: float
) -> None:
    """What an agent registering again says about itself; it is online again."""
    db.execute(
        "UPDATE agents SET name = ?, hostname = ?, dccs = ?, pool = ?, cores = ?, memory_mb = ?,"
        " studio_access = ?, state = 'online', last_seen = ? WHERE id = ?",
        [
            registration.name,
            registration.hostname,
            json.dumps(registration.dccs),
            registration.pool,
            registration.cores,
            registration.memory_mb,
            int(registration.studio_access),
            now,
            agent_id,
        ],
    )
