"""An agent as the daemon lists it: the ``AgentInfo`` of a stored agent row, with what it runs
now, its last load and what it does as people read it (``activity``).

Shared by the agent protocol, enrolment and the TD's hand on nodes, which all answer with it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from common.config import Settings
from common.frames import format_frames
from common.models import AgentActivity, AgentInfo, AgentTask, NodeLoad
from daemon.context import to_datetime
from daemon.storage import agents as agent_store
from daemon.storage import monitoring as load_store
from daemon.storage.dashboard import running_by_agent


def activity(state: str, control: str, holding: bool) -> AgentActivity:
    """What a node does now: a TD's ``disabled`` or ``drain`` first (a draining node still holds
    a task, a drained one none), else offline, busy or idle."""
    if control == "disabled":
        return "disabled"
    if control == "drain":
        return "draining" if holding else "drained"
    if state != "online":
        return "offline"
    return "busy" if holding else "idle"


def agent_info(
    settings: Settings,
    row: dict[str, Any],
    tasks: Sequence[dict[str, Any]] = (),
    load: dict[str, Any] | None = None,
) -> AgentInfo:
    """The agent of a stored row, with the intervals it must keep, the ``tasks`` it holds
    (rows of ``running_by_agent``) and its last ``load`` (a row of ``latest_loads``)."""
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
        control=row["control"],
        control_by=row["control_by"],
        activity=activity(row["state"], row["control"], bool(tasks)),
        tasks=[_task(task) for task in tasks],
        load=_load(load),
    )


def agent_infos(
    db: sqlite_utils.Database, settings: Settings, rows: Sequence[dict[str, Any]]
) -> list[AgentInfo]:
    """The agents of stored rows, with their tasks and loads read in one query each."""
    held = running_by_agent(db)
    loads = load_store.latest_loads(db)
    return [
        agent_info(settings, row, held.get(row["id"], ()), loads.get(row["id"])) for row in rows
    ]


def load_agent_info(db: sqlite_utils.Database, settings: Settings, agent_id: str) -> AgentInfo:
    """The stored agent ``agent_id`` (which must exist: the caller just wrote it)."""
    row = agent_store.get_agent(db, agent_id)
    assert row is not None
    return agent_infos(db, settings, [row])[0]


def _task(row: dict[str, Any]) -> AgentTask:
    return AgentTask(
        job_id=row["job_id"], job_name=row["job_name"], task_id=row["task_id"],
        frames=format_frames(json.loads(row["frames"])), state=row["state"],
        progress=row["progress"],
    )  # fmt: skip


def _load(row: dict[str, Any] | None) -> NodeLoad | None:
    if row is None:
        return None
    return NodeLoad(
        cpu_percent=row["cpu_percent"], memory_percent=row["memory_percent"],
        gpu_percent=row["gpu_percent"], reported_at=to_datetime(row["reported_at"]),
    )  # fmt: skip
