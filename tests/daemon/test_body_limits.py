"""Request bodies are held to their operation's limit, over real HTTP on the daemon's own
waitress options (``daemon.server_options``): 413 ``too_large`` and nothing changes."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from common.config import Settings
from common.models import AgentRegistration, JobSpec
from daemon.api import BLUEPRINTS
from daemon.api.body import BodySize, largest_body
from daemon.api.routing import OPEN, ApiBlueprint
from daemon.app import Services
from daemon.auth import Permission
from daemon.server_options import server_options
from tests.daemon.calls import job_body, snapshot
from tests.daemon.web.helpers import ROOT
from tests.serving import serve

MB = 1_000_000
API = "/api/v1"


@pytest.fixture
def daemon_url(app: Flask, settings: Settings) -> Iterator[str]:
    """The app on 127.0.0.1 under waitress with the options ``cloudburst daemon`` uses."""
    with serve(app, **server_options(settings)) as url:
        yield url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def assert_too_large(response: requests.Response, setting: str) -> None:
    assert response.status_code == 413, response.text[:300]
    error = response.json()
    assert error["code"] == "too_large"
    assert f"({setting})" in error["message"]
    assert error["details"]["limit"] == setting


def test_an_anonymous_50_mb_sign_in_is_refused(daemon_url: str, services: Services) -> None:
    before = snapshot(services)
    body = b'{"username": "admin", "password": "' + b"x" * (50 * MB) + b'"}'
    response = requests.post(f"{daemon_url}{API}/auth/login", data=body, timeout=60,
                             headers={"Content-Type": "application/json"})  # fmt: skip
    assert_too_large(response, "limits.small_body_bytes")
    assert "this operation takes at most 16,384 bytes" in response.json()["message"]
    assert snapshot(services) == before


def test_a_job_body_over_the_json_limit_is_refused_and_nothing_is_stored(
    daemon_url: str, admin_token: str, services: Services
) -> None:
    before = snapshot(services)
    padded = json.dumps(job_body()).encode() + b" " * (2 * MB)  # valid JSON, 2 MB of spaces
    response = requests.post(f"{daemon_url}{API}/jobs", data=padded, headers=bearer(admin_token),
                             timeout=60)  # fmt: skip
    assert_too_large(response, "limits.json_body_bytes")
    assert snapshot(services) == before
    fits = requests.post(f"{daemon_url}{API}/jobs", data=padded[: 100 * 1024],
                         headers=bearer(admin_token), timeout=60)  # fmt: skip
    assert fits.status_code == 201, fits.text


def test_a_chunked_body_is_held_to_the_same_limit(
    daemon_url: str, admin_token: str, services: Services
) -> None:
    before = snapshot(services)
    payload = json.dumps(job_body()).encode() + b" " * (2 * MB)
    pieces = (payload[i : i + 64 * 1024] for i in range(0, len(payload), 64 * 1024))
    response = requests.post(f"{daemon_url}{API}/jobs", data=pieces, headers=bearer(admin_token),
                             timeout=60)  # fmt: skip
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert_too_large(response, "limits.json_body_bytes")
    assert snapshot(services) == before


def test_an_operation_that_takes_no_body_refuses_a_big_one(
    daemon_url: str, admin_token: str, services: Services
) -> None:
    job = requests.post(f"{daemon_url}{API}/jobs", json=job_body(), headers=bearer(admin_token),
                        timeout=60).json()["data"]  # fmt: skip
    response = requests.post(f"{daemon_url}{API}/jobs/{job['id']}/pause", data=b"{" * 100_000,
                             headers=bearer(admin_token), timeout=60)  # fmt: skip
    assert_too_large(response, "limits.small_body_bytes")
    assert services.jobs.get(job["id"]).state == "queued"


def test_an_agent_report_may_be_larger_than_a_json_body(
    daemon_url: str, services: Services
) -> None:
    agent = services.enrollment.register(AgentRegistration(name="n1", hostname="n1"), ROOT)
    services.jobs.submit(JobSpec.model_validate(job_body(frames="1", chunk_size=1)))
    task = services.agents.lease(agent.id)
    assert task is not None
    text = "é" * 999_000  # ~6 MB once JSON escapes it: past the JSON limit, within an agent's
    body = json.dumps({"attempt": task.attempt, "offset": 0, "text": text}).encode()
    assert len(body) > 1024**2
    response = requests.post(
        f"{daemon_url}{API}/agents/{agent.id}/tasks/{task.task_id}/log", data=body,
        headers=bearer(agent.token), timeout=60,
    )  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    assert services.jobs.log(task.job_id, task.task_id, 0, None).text == text


def test_past_the_largest_limit_waitress_answers_before_the_body_is_sent(
    daemon_url: str, settings: Settings
) -> None:
    """A 256 MiB Content-Length (under waitress's own 1 GiB default) and no body: the 413
    comes at once; were the server waiting for the body, this read would time out."""
    host, port = daemon_url.removeprefix("http://").split(":")
    assert largest_body(settings) < 256 * 1024**2
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 268435456\r\n\r\n{"
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_the_dashboard_refuses_a_big_form(daemon_url: str) -> None:
    response = requests.post(f"{daemon_url}/login", data={"username": "a", "password": "x" * MB},
                             timeout=60, allow_redirects=False)  # fmt: skip
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


class _Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise AssertionError("the body was read")


def test_the_limit_is_checked_before_the_caller_or_the_body(app: Flask) -> None:
    """Anonymous or not, a body over the limit is refused from its Content-Length alone."""
    for path in ("/auth/login", "/jobs", "/storage/upload"):
        response = app.test_client().post(
            API + path,
            environ_overrides={"wsgi.input": _Unreadable(), "CONTENT_LENGTH": str(50 * MB),
                               "CONTENT_TYPE": "application/json"},
        )  # fmt: skip
        assert response.status_code == 413, (path, response.json)
        assert response.json["code"] == "too_large"


def test_every_operation_declares_its_body_size() -> None:
    sizes = {f"{op.method} {op.path}": op.body_size for bp in BLUEPRINTS for op in bp.operations}
    open_ops = [op for bp in BLUEPRINTS for op in bp.operations if op.permission in OPEN]
    assert open_ops and all(op.body_size is BodySize.SMALL for op in open_ops)
    assert [key for key, size in sizes.items() if size is BodySize.PART] == [
        "PUT /storage/upload/<upload_id>"
    ]
    assert sizes["POST /agents/<agent_id>/tasks/<int:task_id>/complete"] is BodySize.AGENT
    assert sizes["POST /jobs"] is BodySize.JSON
    assert sizes["POST /jobs/<int:job_id>/pause"] is BodySize.SMALL
    with pytest.raises(ValueError, match="anyone may call"):
        ApiBlueprint("x", __name__, tag="x").operation(
            "POST", "/x", "x", permission=Permission.PUBLIC, body_size=BodySize.JSON
        )
