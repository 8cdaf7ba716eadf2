"""The agent protocol: leasing, progress, completion, failure, retries, stale agents."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from daemon.app import Services
from tests.conftest import FakeClock
from tests.daemon.calls import register_agent, submit


def test_lease_answers_204_with_poll_interval_when_idle(api: FlaskClient) -> None:
    agent = register_agent(api)
    response = api.post(f"/api/v1/agents/{agent}/lease")
    assert response.status_code == 204
    assert float(response.headers["X-Poll-Interval"]) == pytest.approx(0.2)


def test_lease_matches_the_agents_dccs(api: FlaskClient) -> None:
    submit(api, dcc="nuke", frames="1")
    blender_only = register_agent(api, "b", ["blender"])
    nuke = register_agent(api, "n", ["nuke", "blender"])
    assert api.post(f"/api/v1/agents/{blender_only}/lease").status_code == 204
    assert api.post(f"/api/v1/agents/{nuke}/lease").json["data"]["dcc"] == "nuke"


def test_first_progress_starts_the_task(api: FlaskClient) -> None:
    job = submit(api, frames="1")
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    assert api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"][0]["state"] == "leased"
    api.post(
        f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/progress",
        json={"attempt": 1, "progress": 0.25},
    )
    task = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"][0]
    assert task["state"] == "running" and task["progress"] == 0.25
    assert task["started_at"] is not None


def test_job_succeeds_when_every_task_is_done(api: FlaskClient) -> None:
    job = submit(api, frames="1-2", chunk_size=1)
    agent = register_agent(api)
    for frame in (1, 2):
        lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
        assert lease["frames"] == [frame]
        done = api.post(
            f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/complete",
            json={"attempt": 1, "outputs": [f"/renders/shot010/f_{frame:04d}.png"]},
        )
        assert done.status_code == 200
    data = api.get(f"/api/v1/jobs/{job['id']}").json["data"]
    assert data["state"] == "succeeded" and data["progress"] == 1.0
    assert data["finished_at"] is not None
    tasks = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"]
    assert [t["outputs"] for t in tasks] == [
        ["/renders/shot010/f_0001.png"],
        ["/renders/shot010/f_0002.png"],
    ]


def test_failures_retry_until_the_budget_is_spent(api: FlaskClient) -> None:
    job = submit(api, frames="1", max_retries=2)
    agent = register_agent(api)
    for attempt in (1, 2, 3):
        lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
        assert lease["attempt"] == attempt
        api.post(
            f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/fail",
            json={"attempt": attempt, "error": f"crash {attempt}"},
        )
    assert api.post(f"/api/v1/agents/{agent}/lease").status_code == 204
    data = api.get(f"/api/v1/jobs/{job['id']}").json["data"]
    assert data["state"] == "failed"
    assert "crash 3" in data["message"] and "retry limit is 2" in data["message"]
    assert data["errors"] and "crash 3" in data["errors"][0]


def test_preempted_failure_does_not_spend_the_budget(api: FlaskClient) -> None:
    job = submit(api, frames="1", max_retries=0)
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    api.post(
        f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/fail",
        json={"attempt": 1, "error": "node preempted", "preempted": True},
    )
    assert api.get(f"/api/v1/jobs/{job['id']}").json["data"]["state"] == "queued"
    assert api.post(f"/api/v1/agents/{agent}/lease").json["data"]["attempt"] == 2


def test_stale_attempt_and_other_agents_get_409(api: FlaskClient) -> None:
    submit(api, frames="1")
    owner = register_agent(api, "a")
    other = register_agent(api, "b")
    lease = api.post(f"/api/v1/agents/{owner}/lease").json["data"]
    url = f"/api/v1/agents/{other}/tasks/{lease['task_id']}/complete"
    assert api.post(url, json={"attempt": 1, "outputs": []}).status_code == 409
    stale = api.post(
        f"/api/v1/agents/{owner}/tasks/{lease['task_id']}/progress",
        json={"attempt": 7, "progress": 0.5},
    )
    assert stale.status_code == 409 and stale.json["code"] == "task_not_yours"


def test_unknown_agent_must_register_again(api: FlaskClient) -> None:
    response = api.post("/api/v1/agents/nope/heartbeat", json={"task_ids": []})
    assert response.status_code == 404 and "register again" in response.json["message"]


def test_heartbeat_renews_the_lease(api: FlaskClient, services: Services, clock: FakeClock) -> None:
    submit(api, frames="1")
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    clock.advance(25)
    api.post(f"/api/v1/agents/{agent}/heartbeat", json={"task_ids": [lease["task_id"]]})
    clock.advance(25)  # 50 s after the lease, 25 s after the renewal (ttl 30 s)
    assert services.reaper.reap() == 0
    clock.advance(10)
    assert services.reaper.reap() == 1


def test_resent_complete_is_accepted_once(api: FlaskClient) -> None:
    job = submit(api, frames="1-2", chunk_size=1)
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    url = f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/complete"
    body = {"attempt": 1, "outputs": ["/renders/shot010/f_0001.png"]}
    assert api.post(url, json=body).status_code == 200
    assert api.post(url, json=body).status_code == 200  # the first answer was lost
    data = api.get(f"/api/v1/jobs/{job['id']}").json["data"]
    assert data["task_counts"]["done"] == 1 and data["task_counts"]["queued"] == 1
    stale = api.post(url, json={"attempt": 2, "outputs": []})
    assert stale.status_code == 409
