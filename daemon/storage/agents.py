"""Agents table (task logs: ``task_logs.py``)."""

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
