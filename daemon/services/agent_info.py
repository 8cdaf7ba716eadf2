"""An agent as the daemon lists it: the ``AgentInfo`` of a stored agent row.

Shared by the agent protocol and enrolment, which both answer a registration with it.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from common.config import Settings
from common.models import AgentInfo
from daemon.context import to_datetime
from daemon.storage import agents as agent_store


def agent_info(settings: Settings, row: dict[str, Any]) -> AgentInfo:
    """The agent of a stored row, with the intervals it must keep."""
    return AgentInfo(
        id=row["id"],
        name=row["name"],
        hostname=row["hostname"],
        dccs=json.loads(row["dccs"]),
        pool=row["pool"],
        state=row["state"],
        last_seen=to_datetime(row["last_seen"]),
        heartbeat_interval_s=settings.heartbeat_interval_s,
        lease_ttl_s=settings.lease_ttl_s,
        studio_access=bool(row["studio_access"]),
        os=row["os"],
        cores=row["cores"],
        memory_mb=row["memory_mb"],
        gpus=agent_store.gpus_of(row),
        dcc_versions=json.loads(row["dcc_versions"]),
        tags=json.loads(row["tags"]),
        suspect=row["suspect"],
    )


def load_agent_info(db: sqlite_utils.Database, settings: Settings, agent_id: str) -> AgentInfo:
    """The stored agent ``agent_id`` (which must exist: the caller just wrote it)."""
    row = agent_store.get_agent(db, agent_id)
    assert row is not None
    return agent_info(settings, row)
