"""The agents' fast address (``[agents] fast_bind``, ``daemon.api.fast``): over real HTTP, it
answers exactly what the Flask routes answer for the same requests, success and every refusal;
an agent told of it sends its busiest calls there and goes back to the main address when it
does not answer; an agent that never asked (protocol 1) is unaffected."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from common.accounts import Role
from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.errors import ConfigError
from common.models import TaskDone
from daemon.api.fast import FastAgentApi
from daemon.app import Services, create_app
from daemon.fast_server import fast_server, fast_socket
from daemon.server_options import announced_fast_url
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.calls import enroll_agent, snapshot, submit
from tests.serving import serve

HEADERS = ("Content-Type", "X-Content-Type-Options", "WWW-Authenticate", "X-Poll-Interval")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Farm:
    """One daemon's app served twice: by waitress (``main``) and on its fast address."""

    services: Services
    main: str
    fast: str
    admin: str
    agent: tuple[str, str]
    other: tuple[str, str]

    def send(self, base: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{base}/api/v1{path}", timeout=10, **kwargs)

    def both(self, method: str, path: str, **kwargs: Any) -> tuple[Any, Any]:
        """The same request to the Flask route and to the fast address: what each answered
        (status, JSON body, the headers that matter)."""
        answers = []
        for base in (self.main, self.fast):
            sent = dict(kwargs)
            if isinstance(sent.get("data"), list):  # chunks: a body without a length
                sent["data"] = iter(sent["data"])
            response = self.send(base, method, path, **sent)
            body = response.json() if response.content else None
            headers = {name: response.headers.get(name) for name in HEADERS}
            if response.status_code == 204:  # no body: Flask's text/html names nothing
                headers.pop("Content-Type")
            answers.append((response.status_code, body, headers))
        return answers[0], answers[1]


@pytest.fixture
def fast_settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "lease_ttl_s": 30,
            "poll_interval_s": 0.2,
            "limits": {"agent_body_bytes": 4096},
            "agents": {"fast_bind": f"127.0.0.1:{free_port()}"},
        }
    )


@pytest.fixture
def fast_app(fast_settings: Settings, clock: FakeClock) -> Flask:
    return create_app(fast_settings, clock=clock)


@pytest.fixture
def farm(fast_app: Flask, fast_settings: Settings) -> Iterator[Farm]:
    found: Services = fast_app.extensions["cloudburst"]
    admin = user_token(found, "admin", Role.ADMIN)
    api = client_as(fast_app, admin)
    agent = enroll_agent(api, "n1")
    other = enroll_agent(api, "n2")
    sock = fast_socket(fast_settings, first=True)
    with serve(fast_app, threads=4) as main, fast_server(found, fast_settings, sock) as fast:
        assert fast is not None
        yield Farm(found, main, fast, admin, agent, other)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_update_is_answered_the_same(farm: Farm) -> None:
    agent_id, token = farm.agent
    body = {"task_ids": [], "cpu_percent": 50.0, "tasks": []}
    flask, fast = farm.both("POST", f"/agents/{agent_id}/updates", json=body, headers=bearer(token))
    assert flask == fast
    assert fast[0] == 200 and fast[1]["message"] == "OK." and fast[1]["data"]["cancel"] == []


def test_an_idle_lease_is_answered_the_same(farm: Farm) -> None:
    agent_id, token = farm.agent
    flask, fast = farm.both("POST", f"/agents/{agent_id}/lease", headers=bearer(token))
    assert flask == fast
    assert fast[0] == 204 and float(fast[2]["X-Poll-Interval"]) > 0


def submit_shot(farm: Farm, frames: str) -> dict[str, Any]:
    """A job of one-frame tasks, submitted by the admin on the main address."""
    answer = requests.post(
        f"{farm.main}/api/v1/jobs",
        json={
            "name": "shot", "owner": "ana", "project": "show", "scene": "/proj/s.blend",
            "frames": frames, "chunk_size": 1, "output": "/renders/s/f_####",
        },
        headers=bearer(farm.admin), timeout=10,
    )  # fmt: skip
    answer.raise_for_status()
    job: dict[str, Any] = answer.json()["data"]
    return job


def test_a_lease_a_completion_and_a_failure_on_the_fast_address(farm: Farm) -> None:
    job = submit_shot(farm, "1-2")
    agent_id, token = farm.agent
    first = farm.send(farm.fast, "POST", f"/agents/{agent_id}/lease", headers=bearer(token))
    second = farm.send(farm.main, "POST", f"/agents/{agent_id}/lease", headers=bearer(token))
    assert first.status_code == second.status_code == 200
    a, b = first.json()["data"], second.json()["data"]
    assert a.keys() == b.keys() and a["job_id"] == b["job_id"] == job["id"]
    assert a["task_id"] != b["task_id"]  # the fast lease took its task: never handed out twice
    done = farm.send(
        farm.fast, "POST", f"/agents/{agent_id}/tasks/{a['task_id']}/complete",
        json={"attempt": 1, "outputs": []}, headers=bearer(token),
    )  # fmt: skip
    failed = farm.send(
        farm.fast, "POST", f"/agents/{agent_id}/tasks/{b['task_id']}/fail",
        json={"attempt": 1, "error": "boom"}, headers=bearer(token),
    )  # fmt: skip
    assert (done.status_code, done.json()) == (200, {"data": {"next": None}, "message": "OK."})
    assert failed.status_code == 200, failed.text
    tasks = farm.send(farm.main, "GET", f"/jobs/{job['id']}/tasks", headers=bearer(farm.admin))
    states = {t["id"]: t["state"] for t in tasks.json()["data"]["items"]}
    assert states[a["task_id"]] == "done"
    assert states[b["task_id"]] in ("queued", "failed")


def test_a_completion_that_asks_for_the_next_task_is_answered_the_same(farm: Farm) -> None:
    submit_shot(farm, "1-3")
    agent_id, token = farm.agent
    first = farm.send(farm.main, "POST", f"/agents/{agent_id}/lease", headers=bearer(token))
    task = first.json()["data"]
    flask, fast = farm.both(
        "POST", f"/agents/{agent_id}/tasks/{task['task_id']}/complete",
        json={"attempt": 1, "outputs": [], "lease_next": True}, headers=bearer(token),
    )  # fmt: skip
    assert flask == fast, "the second is a resend: the same next task, not another"
    assert fast[0] == 200 and fast[1]["data"]["next"]["frames"] == [2]


REFUSALS: dict[str, Any] = {
    "no token": lambda f: ("POST", f"/agents/{f.agent[0]}/updates", {"json": {}}),
    "a bad token": lambda f: (
        "POST", f"/agents/{f.agent[0]}/lease", {"headers": bearer("cbag_forged")},
    ),
    "another agent's id": lambda f: (
        "POST", f"/agents/{f.other[0]}/updates", {"json": {}, "headers": bearer(f.agent[1])},
    ),
    "another agent's lease": lambda f: (
        "POST", f"/agents/{f.other[0]}/lease", {"headers": bearer(f.agent[1])},
    ),
    "a user who is no admin": lambda f: (
        "POST", f"/agents/{f.agent[0]}/lease", {"headers": bearer(f.artist)},
    ),
    "not JSON": lambda f: (
        "POST", f"/agents/{f.agent[0]}/updates",
        {"data": b"{oops", "headers": bearer(f.agent[1])},
    ),
    "an unknown field": lambda f: (
        "POST", f"/agents/{f.agent[0]}/updates",
        {"json": {"task_ids": [], "bogus": 1}, "headers": bearer(f.agent[1])},
    ),
    "a wrong type": lambda f: (
        "POST", f"/agents/{f.agent[0]}/tasks/1/complete",
        {"json": {"attempt": "first", "outputs": []}, "headers": bearer(f.agent[1])},
    ),
    "an oversize body": lambda f: (
        "POST", f"/agents/{f.agent[0]}/updates",
        {"data": b" " * 5000, "headers": bearer(f.agent[1])},
    ),
    "an oversize body, unsigned": lambda f: (
        "POST", f"/agents/{f.agent[0]}/updates", {"data": b" " * 5000},
    ),
    "an oversize body without a length": lambda f: (
        "POST", f"/agents/{f.agent[0]}/updates",
        {"data": [b" " * 3000, b" " * 3000], "headers": bearer(f.agent[1])},
    ),
    "an oversize body without a length, unsigned": lambda f: (
        "POST", f"/agents/{f.agent[0]}/updates", {"data": [b" " * 3000, b" " * 3000]},
    ),
    "an unknown task": lambda f: (
        "POST", f"/agents/{f.agent[0]}/tasks/999/complete",
        {"json": {"attempt": 1, "outputs": []}, "headers": bearer(f.agent[1])},
    ),
    "an unknown task's failure": lambda f: (
        "POST", f"/agents/{f.agent[0]}/tasks/999/fail",
        {"json": {"attempt": 1, "error": "x"}, "headers": bearer(f.agent[1])},
    ),
    "an unknown agent (admin)": lambda f: (
        "POST", "/agents/nobody/updates", {"json": {}, "headers": bearer(f.admin)},
    ),
    "a task id past SQLite's": lambda f: (
        "POST", f"/agents/{f.agent[0]}/tasks/99999999999999999999/complete",
        {"json": {"attempt": 1, "outputs": []}, "headers": bearer(f.agent[1])},
    ),
    "another method": lambda f: ("GET", f"/agents/{f.agent[0]}/updates", {}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_is_answered_the_same_and_changes_nothing(farm: Farm, case: str) -> None:
    farm.artist = user_token(farm.services, "ana", Role.ARTIST)  # type: ignore[attr-defined]
    method, path, kwargs = REFUSALS[case](farm)
    before = snapshot(farm.services)
    flask, fast = farm.both(method, path, **kwargs)
    assert fast[0] >= 400, fast
    if "without a length" in case:
        # waitress reads a chunked body whole and tells its size ("is 6,000 bytes"); the fast
        # address stops reading at the limit ("runs on"): the same status and code.
        assert (flask[0], flask[1]["code"]) == (fast[0], fast[1]["code"]) == (413, "too_large")
        flask[1]["message"] = fast[1]["message"]
        flask[1]["details"]["received"] = fast[1]["details"]["received"]
    assert flask == fast
    assert fast[1]["code"] and fast[1]["message"]
    assert snapshot(farm.services) == before


def test_the_protocol_announces_the_fast_address(farm: Farm) -> None:
    _agent_id, token = farm.agent
    answer = farm.send(farm.main, "GET", "/agents/protocol", headers=bearer(token))
    assert answer.json()["data"]["fast_url"] == farm.fast


def test_a_wildcard_bind_is_announced_under_the_host_the_agent_reached() -> None:
    assert announced_fast_url("", "daemon.studio:8642") is None
    assert announced_fast_url("10.0.0.5:8643", "daemon.studio:8642") == "http://10.0.0.5:8643"
    assert announced_fast_url("0.0.0.0:8643", "daemon.studio:8642") == "http://daemon.studio:8643"
    assert announced_fast_url("[::]:8643", "[fd00::5]:8642") == "http://[fd00::5]:8643"


def test_an_agent_sends_its_busiest_calls_to_the_fast_address(
    fast_app: Flask, fast_settings: Settings
) -> None:
    found: Services = fast_app.extensions["cloudburst"]
    agent_id, token = enroll_agent(client_as(fast_app, user_token(found, "a", Role.ADMIN)))
    sock = fast_socket(fast_settings, first=True)
    with fast_server(found, fast_settings, sock) as fast:
        with serve(fast_app, threads=2) as main:
            client = DaemonClient(main, retries=0, auth=StaticToken(token))
            protocol = client.agent_protocol()
            assert protocol is not None and protocol.fast_url == fast == client.fast_url
        # The main address is gone: a lease still comes, from the fast one.
        assert client.lease_answer(agent_id).assignment is None
        client.close()


def test_an_agent_goes_back_to_the_main_address_when_the_fast_one_is_down(
    fast_app: Flask, fast_settings: Settings
) -> None:
    found: Services = fast_app.extensions["cloudburst"]
    admin = user_token(found, "a", Role.ADMIN)
    submit(client_as(fast_app, admin), frames="1")
    agent_id, token = enroll_agent(client_as(fast_app, admin))
    with serve(fast_app, threads=2) as main:  # the fast address is announced, nobody listens
        client = DaemonClient(main, retries=0, auth=StaticToken(token))
        protocol = client.agent_protocol()
        assert protocol is not None and client.fast_url is not None
        assignment = client.lease_answer(agent_id).assignment
        assert assignment is not None
        client.complete(agent_id, assignment.task_id, TaskDone(attempt=1, outputs=[]))
        task = found.jobs.task(assignment.job_id, assignment.task_id)
        assert task.state == "done"
        client.close()


def test_an_agent_that_never_asked_is_unaffected(fast_app: Flask, fast_settings: Settings) -> None:
    found: Services = fast_app.extensions["cloudburst"]
    agent_id, token = enroll_agent(client_as(fast_app, user_token(found, "a", Role.ADMIN)))
    with serve(fast_app, threads=2) as main:  # no fast server runs: every call goes to main
        client = DaemonClient(main, retries=0, auth=StaticToken(token))
        assert client.fast_url is None
        assert client.lease_answer(agent_id).assignment is None
        client.close()


def test_the_fast_address_answers_without_waiting_for_acknowledgements(
    fast_settings: Settings,
) -> None:
    """Its sockets send at once (TCP_NODELAY): on a kept connection an answer written in two
    pieces otherwise waits for the client's delayed acknowledgement, 40 ms a call."""
    sock = fast_socket(fast_settings, first=True)
    assert sock is not None
    with sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_an_agent_keeps_its_connection_to_the_fast_address(
    fast_app: Flask, fast_settings: Settings
) -> None:
    """Whatever ``keep_alive`` says for the main address (off by default): the fast address's
    server watches idle connections at no cost, and a new connection per call costs both
    sides."""
    found: Services = fast_app.extensions["cloudburst"]
    agent_id, token = enroll_agent(client_as(fast_app, user_token(found, "a", Role.ADMIN)))
    sock = fast_socket(fast_settings, first=True)
    with fast_server(found, fast_settings, sock) as fast, serve(fast_app, threads=2) as main:
        client = DaemonClient(main, retries=0, auth=StaticToken(token))
        assert client.agent_protocol() is not None and not client.keep_alive
        for _ in range(3):
            client.lease_answer(agent_id)
        assert fast is not None
        pools = client._session.get_adapter(fast).poolmanager.pools
        port = int(fast.rsplit(":", 1)[1])
        (pool,) = [pools[key] for key in pools.keys() if pools[key].port == port]  # noqa: SIM118 - not iterable
        assert pool.num_connections == 1
        kept = [conn for conn in pool.pool.queue if conn is not None and conn.sock is not None]
        assert len(kept) == 1  # still open after the three calls
        client.close()


def test_a_fast_bind_that_is_no_address_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"data_dir": tmp_path / "data", "agents": {"fast_bind": "8643"}}
    )
    with pytest.raises(ConfigError, match=r"\[agents\] fast_bind must be HOST:PORT"):
        fast_socket(settings, first=True)
    off = Settings.model_validate({"data_dir": tmp_path / "data"})
    assert fast_socket(off, first=True) is None  # off by default: nothing listens


def test_a_body_cut_short_by_a_client_that_went_away_is_never_taken_for_the_whole(
    farm: Farm,
) -> None:
    submit_shot(farm, "1")
    agent_id, token = farm.agent
    task = farm.send(farm.fast, "POST", f"/agents/{agent_id}/lease", headers=bearer(token))
    task_id = task.json()["data"]["task_id"]
    # The first part happens to be valid JSON; the client is gone before the rest.
    messages = [
        {"type": "http.request", "body": b'{"attempt": 1, "outputs": []}', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST",
        "path": f"/api/v1/agents/{agent_id}/tasks/{task_id}/complete",
        "headers": [(b"authorization", f"Bearer {token}".encode())], "client": ("127.0.0.1", 1),
    }  # fmt: skip
    app = FastAgentApi(farm.services, 1)
    try:
        asyncio.run(app(scope, receive, send))
    finally:
        app.close()
    assert sent == [], "nobody to answer"
    held = farm.services.context.database.db.execute(
        "SELECT state FROM tasks WHERE id = ?", [task_id]
    ).fetchone()
    assert held == ("leased",), "the completion was not applied"
