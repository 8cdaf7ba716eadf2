"""Every endpoint refuses bad input: a 4xx, a stable code, a sentence, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from daemon.app import Services
from tests.daemon.calls import job_body, register_agent, snapshot, submit

JOB = "/api/v1/jobs"

# (method, path, body (dict = JSON, str = raw), status, code, words in the message)
CASES: list[tuple[str, str, Any, int, str, str]] = [
    ("POST", JOB, "{not json", 400, "invalid_json", "not valid JSON"),
    ("POST", JOB, "[1, 2]", 400, "invalid_input", "should be an object"),
    ("POST", JOB, job_body(frames="10-1"), 400, "invalid_frame_spec", "runs backwards"),
    ("POST", JOB, job_body(frames="a-b"), 400, "invalid_frame_spec", "not a frame"),
    ("POST", JOB, job_body(frames=""), 400, "invalid_input", "frames"),
    ("POST", JOB, job_body(frames="5,-2-1"), 400, "invalid_frame_spec", "negative frames"),
    ("POST", JOB, job_body(frames="0-1000000"), 400, "invalid_frame_spec", "more than"),
    ("POST", JOB, job_body(colour="red"), 400, "invalid_input", "colour: Extra inputs"),
    ("POST", JOB, job_body(priority="high"), 400, "invalid_input", "priority"),
    ("POST", JOB, job_body(priority=101), 400, "invalid_input", "priority"),
    ("POST", JOB, job_body(chunk_size=0), 400, "invalid_input", "chunk_size"),
    ("POST", JOB, job_body(placement="moon"), 400, "invalid_input", "placement"),
    ("POST", JOB, {"name": "x"}, 400, "invalid_input", "scene: Field required"),
    ("GET", JOB + "?limit=0", None, 400, "invalid_input", "limit"),
    ("GET", JOB + "?state=exploded", None, 400, "invalid_input", "state"),
    ("GET", JOB + "?sort=colour", None, 400, "invalid_input", "sort"),
    ("GET", JOB + "?order_by=name", None, 400, "invalid_input", "order_by"),
    ("GET", JOB + "/999", None, 404, "not_found", "no job 999"),
    ("DELETE", JOB + "/999", None, 404, "not_found", "no job 999"),
    ("POST", JOB + "/999/pause", None, 404, "not_found", "no job 999"),
    ("PUT", JOB + "/{job}/priority", {"priority": "9"}, 400, "invalid_input", "priority"),
    ("PUT", JOB + "/{job}/priority", {"priority": 5, "x": 1}, 400, "invalid_input", "x"),
    ("POST", JOB + "/{job}/resume", None, 409, "illegal_state_change", "not paused"),
    ("POST", JOB + "/{job}/retry", None, 409, "illegal_state_change", "no failed tasks"),
    ("GET", JOB + "/{job}/tasks/999/log", None, 404, "not_found", "no task 999"),
    ("GET", JOB + "/{job}/tasks/{task}/log?offset=-1", None, 400, "invalid_input", "offset"),
    ("GET", JOB + "/abc", None, 404, "not_found", "No such endpoint"),
    ("PATCH", JOB, None, 405, "method_not_allowed", "HTTP method"),
    ("POST", "/api/v1/agents", {"name": "n"}, 400, "invalid_input", "hostname"),
    ("POST", "/api/v1/agents/{agent}/heartbeat", {"task_ids": "1"}, 400, "invalid_input", ""),
    ("POST", "/api/v1/agents/ghost/lease", None, 404, "not_found", "register again"),
    (
        "POST", "/api/v1/agents/{agent}/tasks/{task}/progress",
        {"attempt": 1, "progress": 1.5}, 400, "invalid_input", "progress",
    ),
    (
        "POST", "/api/v1/agents/{agent}/tasks/{task}/complete",
        {"attempt": 1, "outputs": []}, 409, "task_not_yours", "no longer yours",
    ),
    (
        "POST", "/api/v1/agents/{agent}/tasks/999/fail",
        {"attempt": 1, "error": "x"}, 404, "not_found", "no task 999",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "code", "words"), CASES)
def test_bad_input_is_refused_and_changes_nothing(
    api: FlaskClient,
    services: Services,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    words: str,
) -> None:
    job = submit(api, frames="1-2", chunk_size=1)
    agent = register_agent(api)
    task = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"][0]["id"]
    url = path.format(job=job["id"], agent=agent, task=task)
    before = snapshot(services)
    kwargs: dict[str, Any] = (
        {"data": body, "content_type": "application/json"}
        if isinstance(body, str)
        else {"json": body}
        if body is not None
        else {}
    )
    response = api.open(url, method=method, **kwargs)
    assert response.status_code == status, response.json
    assert response.json["data"] is None
    assert response.json["code"] == code
    assert words.lower() in response.json["message"].lower()
    assert snapshot(services) == before


def test_finished_job_refuses_every_state_change(api: FlaskClient, services: Services) -> None:
    job = submit(api, frames="1")
    api.delete(f"/api/v1/jobs/{job['id']}")
    before = snapshot(services)
    for method, action in (
        ("POST", "pause"), ("POST", "resume"), ("POST", "retry"), ("DELETE", ""),
    ):  # fmt: skip
        url = f"/api/v1/jobs/{job['id']}" + (f"/{action}" if action else "")
        response = api.open(url, method=method)
        assert response.status_code == 409, (action, response.json)
        assert response.json["code"] == "illegal_state_change"
    priority = api.put(f"/api/v1/jobs/{job['id']}/priority", json={"priority": 1})
    assert priority.status_code == 409
    assert snapshot(services) == before
