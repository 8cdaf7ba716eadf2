"""A TD's hand on nodes over real HTTP: disable, drain and enable; who may; what the lease does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.daemon.calls import snapshot
from tests.daemon.farm_http import Farm, serve_farm


def agent_rows(farm: Farm) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row (to prove a refused call changed nothing)."""
    return snapshot(farm.services)


def test_a_disabled_node_leases_nothing_until_enabled_and_its_running_task_goes_on(
    tmp_path: Path,
) -> None:
    with serve_farm(tmp_path) as farm:
        job_id = farm.submit(frames="1-3", chunk_size=1)
        node = farm.agent("node01")
        running = farm.lease(node)
        assert running is not None
        disabled = farm.data("POST", f"/agents/{node}/disable", as_="td")
        assert (disabled["control"], disabled["control_by"]) == ("disabled", "tess")
        assert disabled["activity"] == "disabled"
        assert [t["task_id"] for t in disabled["tasks"]] == [running["task_id"]]
        assert farm.lease(node) is None  # frames 2-3 wait, but not for this node
        held = {"task_ids": [running["task_id"]]}
        beat = farm.data("POST", f"/agents/{node}/heartbeat", json=held)
        assert beat["cancel"] == []  # what it runs goes on
        assert farm.complete(node, running).status_code == 200
        assert farm.lease(node) is None
        assert farm.agents()[node]["activity"] == "disabled"
        enabled = farm.data("POST", f"/agents/{node}/enable", as_="td")
        assert (enabled["control"], enabled["activity"]) == ("enabled", "idle")
        again = farm.lease(node)
        assert again is not None and again["job_id"] == job_id and again["frames"] == [2]


def test_a_draining_node_finishes_its_task_then_takes_nothing(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        farm.submit(frames="1-4", chunk_size=1)
        node, other = farm.agent("node01"), farm.agent("node02")
        lease = farm.lease(node)
        assert lease is not None
        draining = farm.data("POST", f"/agents/{node}/drain", as_="admin")
        assert (draining["control"], draining["activity"]) == ("drain", "draining")
        assert farm.lease(node) is None
        progress = {"attempt": lease["attempt"], "progress": 0.5}
        path = f"/agents/{node}/tasks/{lease['task_id']}/progress"
        assert farm.call("POST", path, json=progress).status_code == 200
        assert farm.complete(node, lease).status_code == 200
        drained = farm.agents()[node]
        assert (drained["activity"], drained["tasks"]) == ("drained", [])
        assert farm.lease(node) is None
        taken = farm.lease(other)  # the rest of the job goes to the other node
        assert taken is not None and taken["frames"] == [2]
        assert farm.agents()[other]["activity"] == "busy"
        farm.data("POST", f"/agents/{node}/enable", as_="td")
        assert farm.lease(node) is not None


def test_a_nodes_control_outlives_its_registrations(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        farm.submit(frames="1")
        body = {"name": "node01", "hostname": "node01", "dccs": ["blender"], "memory_mb": 16000}
        first = farm.data("POST", "/agents", json=body)
        farm.data("POST", f"/agents/{first['id']}/disable", as_="td")
        headers = {"Authorization": f"Bearer {first['token']}"}
        again = farm.session.post(f"{farm.url}/api/v1/agents", json=body, headers=headers)
        assert again.status_code == 201, again.text
        assert again.json()["data"]["control"] == "disabled"
        assert farm.lease(first["id"]) is None


@pytest.mark.parametrize("action", ["disable", "drain", "enable"])
def test_only_tds_and_admins_may_disable_drain_or_enable_a_node(
    tmp_path: Path, action: str
) -> None:
    with serve_farm(tmp_path) as farm:
        body = {"name": "node01", "hostname": "node01", "dccs": ["blender"]}
        node = farm.data("POST", "/agents", json=body)
        before = agent_rows(farm)
        refused = farm.call("POST", f"/agents/{node['id']}/{action}", as_="artist")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        # a node's own token cannot take itself out of (or back into) the farm
        headers = {"Authorization": f"Bearer {node['token']}"}
        own = farm.session.post(f"{farm.url}/api/v1/agents/{node['id']}/{action}", headers=headers)
        assert own.status_code == 403 and own.json()["code"] == "forbidden"
        unknown = farm.call("POST", f"/agents/nope/{action}", as_="td")
        assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
        assert "GET /api/v1/agents" in unknown.json()["message"]
        assert agent_rows(farm) == before


def test_an_out_of_memory_task_does_not_wait_for_a_bigger_node_that_is_disabled(
    tmp_path: Path,
) -> None:
    with serve_farm(tmp_path) as farm:
        job_id = farm.submit(frames="1", max_retries=2)
        small, big = farm.agent("small", memory_mb=8_000), farm.agent("big", memory_mb=64_000)
        farm.data("POST", f"/agents/{big}/disable", as_="td")
        lease = farm.lease(small)
        assert lease is not None
        farm.fail(small, lease, "Error: Out of memory", "out_of_memory")
        assert "more memory" not in farm.tasks(job_id)[0]["error"]
        again = farm.lease(small)  # retried as usual: no enabled node is bigger
        assert again is not None and again["attempt"] == 2
