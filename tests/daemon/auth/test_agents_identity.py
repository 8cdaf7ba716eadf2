"""Agent identities: one-time enrollment tokens; an agent token reaches only its own agent."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from daemon.app import Services
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.calls import snapshot, submit

NODE = {"name": "node01", "hostname": "node01"}


def mint(client: FlaskClient) -> str:
    response = client.post("/api/v1/agents/enrollment-tokens")
    assert response.status_code == 201, response.json
    token: str = response.json["data"]["token"]
    return token


def test_an_enrollment_token_works_once(
    app: Flask, api: FlaskClient, anonymous_api: FlaskClient, services: Services
) -> None:
    td = client_as(app, user_token(services, "tess", Role.TD))
    token = mint(td)
    first = anonymous_api.post("/api/v1/agents", json={**NODE, "enrollment_token": token})
    assert first.status_code == 201
    agent = first.json["data"]
    assert agent["token"].startswith("cba_")
    before = snapshot(services)
    again = anonymous_api.post("/api/v1/agents", json={**NODE, "enrollment_token": token})
    assert again.status_code == 401 and "enrollment token" in again.json["message"]
    assert anonymous_api.post("/api/v1/agents", json=NODE).status_code == 401
    assert snapshot(services) == before
    listed = api.get("/api/v1/agents").json["data"]
    assert [a["id"] for a in listed] == [agent["id"]]
    assert all(a["token"] is None for a in listed)


def test_an_enrollment_token_expires(
    api: FlaskClient, anonymous_api: FlaskClient, clock: FakeClock
) -> None:
    token = mint(api)
    clock.advance(86_401)
    late = anonymous_api.post("/api/v1/agents", json={**NODE, "enrollment_token": token})
    assert late.status_code == 401


def test_an_agent_token_reaches_only_its_own_agent(
    app: Flask, api: FlaskClient, anonymous_api: FlaskClient, services: Services
) -> None:
    submit(api)
    one = anonymous_api.post("/api/v1/agents", json={**NODE, "enrollment_token": mint(api)})
    two = anonymous_api.post(
        "/api/v1/agents", json={"name": "n2", "hostname": "n2", "enrollment_token": mint(api)}
    )
    a1, a2 = one.json["data"], two.json["data"]
    as_one = client_as(app, a1["token"])
    before = snapshot(services)
    stolen = as_one.post(f"/api/v1/agents/{a2['id']}/lease")
    assert stolen.status_code == 403 and a2["id"] in stolen.json["message"]
    assert as_one.get("/api/v1/jobs").status_code == 403
    artist = client_as(app, user_token(services, "ana", Role.ARTIST))
    after_users = snapshot(services)
    assert artist.post(f"/api/v1/agents/{a1['id']}/lease").status_code == 403
    assert snapshot(services) == after_users
    assert before["tasks"] == after_users["tasks"]
    leased = as_one.post(f"/api/v1/agents/{a1['id']}/lease")
    assert leased.status_code == 200
    task_id = leased.json["data"]["task_id"]
    as_two = client_as(app, a2["token"])
    progress = {"attempt": 1, "progress": 0.5}
    other = as_two.post(f"/api/v1/agents/{a2['id']}/tasks/{task_id}/progress", json=progress)
    assert other.status_code == 409  # its own id, but not its task


def test_an_agent_registers_again_as_itself(app: Flask, api: FlaskClient) -> None:
    first = api.post("/api/v1/agents", json=NODE).json["data"]
    agent = client_as(app, first["token"])
    again = agent.post("/api/v1/agents", json={**NODE, "hostname": "node01b"})
    assert again.status_code == 201
    assert again.json["data"]["id"] == first["id"] and again.json["data"]["token"] is None
    assert again.json["data"]["hostname"] == "node01b"
