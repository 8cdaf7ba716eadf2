"""The answer of every operation: ``{"data", "message"}`` as JSON, written once from the model,
with the operation's status (through real HTTP)."""

from __future__ import annotations

import json
from typing import Any

import requests

from daemon.app import Services
from tests.daemon.calls import job_body


def call(url: str, token: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10,
        **kwargs,
    )  # fmt: skip


def test_a_model_comes_back_as_its_json_with_the_declared_status(
    live_url: str, admin_token: str, services: Services
) -> None:
    answer = call(live_url, admin_token, "POST", "/jobs", json=job_body(name="Café 東京 ünï"))
    assert answer.status_code == 201
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    body = json.loads(answer.content.decode("utf-8"))
    assert set(body) == {"data", "message"} and body["message"] == "OK."
    job = services.jobs.get(body["data"]["id"])
    assert body["data"] == job.model_dump(mode="json")
    assert body["data"]["spec"]["name"] == "Café 東京 ünï"


def test_a_list_and_nothing_come_back_in_the_envelope(live_url: str, admin_token: str) -> None:
    for name in ("a", "b"):
        assert call(live_url, admin_token, "POST", "/jobs", json=job_body(name=name)).ok
    listed = call(live_url, admin_token, "GET", "/users").json()
    assert listed["message"] == f"{len(listed['data'])} item(s)." and len(listed["data"]) == 1
    assert listed["data"][0]["name"] == "admin"
    nothing = call(live_url, admin_token, "POST", "/auth/logout", json={})
    assert nothing.status_code == 200 and nothing.json() == {"data": None, "message": "OK."}
