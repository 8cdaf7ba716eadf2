"""The reaper takes back leases of silent agents; a restart gives agents time to return."""

from __future__ import annotations

from flask.testing import FlaskClient

from daemon.app import Services
from tests.conftest import FakeClock
from tests.daemon.calls import register_agent, submit


def test_expired_running_task_is_requeued_and_counts_a_failure(
    api: FlaskClient, services: Services, clock: FakeClock
) -> None:
    job = submit(api, frames="1", max_retries=1)
    dead = register_agent(api, "dead")
    lease = api.post(f"/api/v1/agents/{dead}/lease").json["data"]
    api.post(
        f"/api/v1/agents/{dead}/tasks/{lease['task_id']}/progress",
        json={"attempt": 1, "progress": 0.3},
    )
    clock.advance(31)
    assert services.reaper.reap() == 1
    task = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"][0]
    assert task["state"] == "queued" and task["agent_id"] is None
    assert "stopped answering" in task["error"]
    agents = {a["name"]: a for a in api.get("/api/v1/agents").json["data"]}
    assert agents["dead"]["state"] == "offline"
    # The second silent death spends the budget (max_retries=1).
    alive = register_agent(api, "alive")
    lease = api.post(f"/api/v1/agents/{alive}/lease").json["data"]
    api.post(
        f"/api/v1/agents/{alive}/tasks/{lease['task_id']}/progress",
        json={"attempt": 2, "progress": 0.1},
    )
    clock.advance(31)
    services.reaper.reap()
    data = api.get(f"/api/v1/jobs/{job['id']}").json["data"]
    assert data["state"] == "failed" and "lease expired" in data["message"]


def test_expired_lease_never_started_keeps_the_budget(
    api: FlaskClient, services: Services, clock: FakeClock
) -> None:
    job = submit(api, frames="1", max_retries=0)
    agent = register_agent(api)
    api.post(f"/api/v1/agents/{agent}/lease")
    clock.advance(31)
    services.reaper.reap()
    assert api.get(f"/api/v1/jobs/{job['id']}").json["data"]["state"] == "queued"


def test_the_old_agent_learns_its_task_was_reassigned(
    api: FlaskClient, services: Services, clock: FakeClock
) -> None:
    submit(api, frames="1")
    slow = register_agent(api, "slow")
    lease = api.post(f"/api/v1/agents/{slow}/lease").json["data"]
    clock.advance(31)
    services.reaper.reap()
    other = register_agent(api, "other")
    assert api.post(f"/api/v1/agents/{other}/lease").json["data"]["attempt"] == 2
    beat = api.post(f"/api/v1/agents/{slow}/heartbeat", json={"task_ids": [lease["task_id"]]})
    assert beat.json["data"]["cancel"] == [lease["task_id"]]
    late = api.post(
        f"/api/v1/agents/{slow}/tasks/{lease['task_id']}/complete",
        json={"attempt": 1, "outputs": []},
    )
    assert late.status_code == 409


def test_grace_after_restart_extends_every_lease(
    api: FlaskClient, services: Services, clock: FakeClock
) -> None:
    submit(api, frames="1")
    agent = register_agent(api)
    api.post(f"/api/v1/agents/{agent}/lease")
    clock.advance(29)
    assert services.reaper.grace_after_start() == 1
    clock.advance(29)
    assert services.reaper.reap() == 0
