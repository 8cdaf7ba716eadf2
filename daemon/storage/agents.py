"""Agents table: what each node is and has (task logs: ``task_logs.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from common.models import AgentRegistration, Capabilities, Gpu


def insert_agent(
    db: sqlite_utils.Database, agent_id: str, registration: AgentRegistration, now: float
) -> None:
    db.execute(
        "INSERT INTO agents (id, name, hostname, dccs, pool, cores, memory_mb, state,"
        " registered_at, last_seen, studio_access, tags)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'online', ?, ?, ?, ?)",
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
            _tags(registration.tags),
        ],
    )
    update_capabilities(db, agent_id, registration.capabilities)


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


def agent_exists(db: sqlite_utils.Database, agent_id: str) -> bool:
    row = db.conn.execute("SELECT 1 FROM agents WHERE id = ?", [agent_id]).fetchone()
    return row is not None


def touch_agents(db: sqlite_utils.Database, seen: Iterable[tuple[str, float]]) -> None:
    """Many agents heard from, each at its time (a group commit's): each is online, and its
    ``last_seen`` never moves back (a lease may have written a later time meanwhile)."""
    db.conn.executemany(
        "UPDATE agents SET last_seen = max(last_seen, ?), state = 'online' WHERE id = ?",
        [(now, agent_id) for agent_id, now in seen],
    )


def count_online(db: sqlite_utils.Database) -> int:
    """How many agents are online (heard from within the lease time)."""
    row = db.conn.execute("SELECT count(*) FROM agents WHERE state = 'online'").fetchone()
    return int(row[0])


def mark_silent_agents_offline(db: sqlite_utils.Database, silent_since: float) -> int:
    cursor = db.execute(
        "UPDATE agents SET state = 'offline' WHERE state = 'online' AND last_seen < ?",
        [silent_since],
    )
    return cursor.rowcount


def update_agent(
    db: sqlite_utils.Database, agent_id: str, registration: AgentRegistration, now: float
) -> None:
    """What an agent registering again says about itself; it is online again. The pool and
    tags a TD gave the node stay."""
    db.execute(
        "UPDATE agents SET name = ?, hostname = ?, studio_access = ?, state = 'online',"
        " last_seen = ?,"
        " pool = CASE WHEN labels_by_td THEN pool ELSE ? END,"
        " tags = CASE WHEN labels_by_td THEN tags ELSE ? END"
        " WHERE id = ?",
        [
            registration.name,
            registration.hostname,
            int(registration.studio_access),
            now,
            registration.pool,
            _tags(registration.tags),
            agent_id,
        ],
    )
    update_capabilities(db, agent_id, registration.capabilities)


def update_capabilities(db: sqlite_utils.Database, agent_id: str, caps: Capabilities) -> None:
    """What the node has now (from a registration or a heartbeat)."""
    db.execute(
        "UPDATE agents SET dccs = ?, dcc_versions = ?, cores = ?, memory_mb = ?, os = ?,"
        " gpus = ?, gpu_memory_mb = ?, gpu_list = ? WHERE id = ?",
        [
            json.dumps(caps.dccs),
            json.dumps(caps.dcc_versions, sort_keys=True),
            caps.cores,
            caps.memory_mb,
            caps.os,
            len(caps.gpus),
            max((gpu.memory_mb for gpu in caps.gpus), default=0),
            json.dumps([gpu.model_dump() for gpu in caps.gpus]),
            agent_id,
        ],
    )


def gpus_of(row: dict[str, Any]) -> list[Gpu]:
    return [Gpu.model_validate(gpu) for gpu in json.loads(row["gpu_list"])]


def set_labels(
    db: sqlite_utils.Database, agent_id: str, pool: str | None, tags: list[str] | None
) -> bool:
    """A TD's pool and tags for the node; they outlive its registrations."""
    sets, params = ["labels_by_td = 1"], []
    if pool is not None:
        sets.append("pool = ?")
        params.append(pool)
    if tags is not None:
        sets.append("tags = ?")
        params.append(_tags(tags))
    cursor = db.execute(f"UPDATE agents SET {', '.join(sets)} WHERE id = ?", [*params, agent_id])
    return cursor.rowcount == 1


def set_suspect(db: sqlite_utils.Database, agent_id: str, reason: str) -> None:
    """Marks the node suspect (``reason``) or, with an empty reason, clears the mark."""
    db.execute(
        "UPDATE agents SET suspect = ?, failures_in_a_row = CASE WHEN ? = '' THEN 0"
        " ELSE failures_in_a_row END WHERE id = ?",
        [reason, reason, agent_id],
    )


def set_control(
    db: sqlite_utils.Database, agent_id: str, control: str, by: str, now: float
) -> bool:
    """A TD's hand on the node: ``enabled``, ``disabled`` or ``drain`` (``by``: who)."""
    cursor = db.execute(
        "UPDATE agents SET control = ?, control_by = ?, control_at = ? WHERE id = ?",
        [control, by, now, agent_id],
    )
    return cursor.rowcount == 1


def count_failure_in_a_row(db: sqlite_utils.Database, agent_id: str) -> int:
    """One more task failed on this node; returns how many in a row."""
    db.execute(
        "UPDATE agents SET failures_in_a_row = failures_in_a_row + 1 WHERE id = ?", [agent_id]
    )
    row = db.conn.execute(
        "SELECT failures_in_a_row FROM agents WHERE id = ?", [agent_id]
    ).fetchone()
    return int(row[0]) if row else 0


def reset_failures_in_a_row(db: sqlite_utils.Database, agent_id: str) -> None:
    db.execute(
        "UPDATE agents SET failures_in_a_row = 0 WHERE id = ? AND failures_in_a_row != 0",
        [agent_id],
    )


def has_bigger_node(db: sqlite_utils.Database, job_id: int, dcc: str, memory_mb: int) -> bool:
    """Whether an online node that takes work (enabled, not suspect, not kept off the job) has
    ``dcc`` and more memory than ``memory_mb``."""
    row = db.conn.execute(
        "SELECT EXISTS (SELECT 1 FROM agents a WHERE a.state = 'online' AND a.suspect = ''"
        " AND a.control = 'enabled'"
        " AND a.memory_mb > ? AND EXISTS (SELECT 1 FROM json_each(a.dccs) d WHERE d.value = ?)"
        " AND NOT EXISTS (SELECT 1 FROM node_job_failures f"
        " WHERE f.job_id = ? AND f.agent_id = a.id AND f.kept_off = 1))",
        [memory_mb, dcc, job_id],
    ).fetchone()
    return bool(row[0])


def _tags(tags: list[str]) -> str:
    return json.dumps(sorted(set(tags)))
