"""Protocol 3: a completion that asks for the next task (``lease_next``) gets it in its answer,
leased in the transaction that records the finished one; a resend gets the same task, never a
second one; without the ask, nothing is leased and the answer is the one older agents read."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from daemon.app import Services
from tests.daemon.calls import register_agent, submit


def lease(api: FlaskClient, agent: str) -> dict[str, Any]:
    response = api.post(f"/api/v1/agents/{agent}/lease")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json["data"]
    return data


def complete(
    api: FlaskClient, agent: str, task: dict[str, Any], **more: Any
) -> dict[str, Any] | None:
    response = api.post(
        f"/api/v1/agents/{agent}/tasks/{task['task_id']}/complete",
        json={"attempt": task["attempt"], "outputs": [], **more},
    )
    assert response.status_code == 200, response.text
    following: dict[str, Any] | None = response.json["data"]["next"]
    return following


def states(api: FlaskClient, job: dict[str, Any]) -> dict[int, tuple[str, str | None]]:
    items = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"]
    return {t["id"]: (t["state"], t["agent_name"]) for t in items}


def test_a_completion_that_asks_gets_the_next_task_in_one_transaction(
    api: FlaskClient, services: Services
) -> None:
    job = submit(api, frames="1-3", chunk_size=1)
    agent = register_agent(api, "n1")
    first = lease(api, agent)
    commits = services.context.database.commits
    second = complete(api, agent, first, lease_next=True)
    assert services.context.database.commits == commits + 1, "one commit for both"
    assert second is not None and second["job_id"] == job["id"]
    assert (second["frames"], second["attempt"]) == ([2], 1)
    assert states(api, job) == {
        first["task_id"]: ("done", "n1"), second["task_id"]: ("leased", "n1"),
        second["task_id"] + 1: ("queued", None),
    }  # fmt: skip


def test_a_completion_that_does_not_ask_leases_nothing(api: FlaskClient) -> None:
    job = submit(api, frames="1-2", chunk_size=1)
    agent = register_agent(api)
    first = lease(api, agent)
    assert complete(api, agent, first) is None
    assert sorted(state for state, _ in states(api, job).values()) == ["done", "queued"]


def test_a_resend_gets_the_task_the_lost_answer_carried_not_another(api: FlaskClient) -> None:
    job = submit(api, frames="1-3", chunk_size=1)
    agent = register_agent(api)
    first = lease(api, agent)
    second = complete(api, agent, first, lease_next=True)
    again = complete(api, agent, first, lease_next=True)  # the answer was lost on the way
    assert again == second
    held = [s for s, _ in states(api, job).values()]
    assert sorted(held) == ["done", "leased", "queued"], "one task held, not two"


def test_the_last_task_done_answers_no_next_and_the_agent_leases_as_usual(
    api: FlaskClient,
) -> None:
    submit(api, frames="1", chunk_size=1)
    agent = register_agent(api)
    assert complete(api, agent, lease(api, agent), lease_next=True) is None
    assert api.post(f"/api/v1/agents/{agent}/lease").status_code == 204


def test_a_node_that_may_not_take_work_gets_no_next_task(api: FlaskClient) -> None:
    job = submit(api, frames="1-2", chunk_size=1)
    agent = register_agent(api)
    first = lease(api, agent)
    drained = api.post(f"/api/v1/agents/{agent}/drain")
    assert drained.status_code == 200, drained.text
    assert complete(api, agent, first, lease_next=True) is None
    assert sorted(state for state, _ in states(api, job).values()) == ["done", "queued"]


def test_a_lease_next_that_is_no_boolean_is_refused_and_changes_nothing(
    api: FlaskClient,
) -> None:
    job = submit(api, frames="1", chunk_size=1)
    agent = register_agent(api)
    task = lease(api, agent)
    response = api.post(
        f"/api/v1/agents/{agent}/tasks/{task['task_id']}/complete",
        json={"attempt": 1, "outputs": [], "lease_next": "yes"},
    )
    assert response.status_code == 400
    assert "lease_next" in response.json["message"], response.json
    assert states(api, job) == {task["task_id"]: ("leased", "node01")}
