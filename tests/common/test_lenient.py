"""Agents read a later daemon's replies: unknown fields are left out at any depth, while a
known field still has to be there and right."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.lenient import lenient
from common.models import AgentInfo, AgentUpdateReply, HeartbeatReply

INFO = {
    "id": "a1", "name": "n", "hostname": "h", "dccs": ["blender"], "pool": "local",
    "state": "idle", "last_seen": "2026-01-01T00:00:00Z", "heartbeat_interval_s": 10.0,
    "lease_ttl_s": 60.0,
}  # fmt: skip


def test_unknown_fields_are_left_out_at_every_depth() -> None:
    data = {
        **INFO,
        "new_top": 1,
        "gpus": [{"model": "RTX", "memory_mb": 24000, "new_in_gpu": "x"}],
        "load": {"reported_at": "2026-01-01T00:00:00Z", "cpu_percent": 5.0, "new_in_load": 2},
        "tasks": [{"job_id": 1, "job_name": "j", "task_id": 2, "frames": "1-2",
                   "state": "running", "new_in_task": []}],
    }  # fmt: skip
    with pytest.raises(ValidationError):
        AgentInfo.model_validate(data, strict=False)  # what the agent did before

    info = lenient(AgentInfo, data)

    assert info.gpus[0].memory_mb == 24000
    assert info.load is not None and info.load.cpu_percent == 5.0
    assert info.tasks[0].state == "running"


def test_a_missing_or_wrong_known_field_still_fails() -> None:
    with pytest.raises(ValidationError):
        lenient(AgentUpdateReply, {"cancel": [1], "future": True})  # no update_interval_s
    with pytest.raises(ValidationError):
        lenient(HeartbeatReply, {"cancel": ["not a task id"]})
    assert lenient(HeartbeatReply, {"cancel": [3], "future": {"x": 1}}).cancel == [3]
