"""The users API (soft delete, restore, roles in the profile) and self-registration modes."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from common.config import AuthSettings, Settings
from daemon.app import create_app
from tests.conftest import FakeClock, client_as, user_token


def test_create_read_update_and_list(api: FlaskClient) -> None:
    made = api.post("/api/v1/users", json={"name": "tess", "role": "td", "password": "td-pw-1234"})
    assert made.status_code == 201
    user = made.json["data"]
    assert user["role"] == "td" and user["active"] and not user["deleted"]
    assert "jobs.manage" in user["permissions"] and "users.manage" not in user["permissions"]
    changed = api.put(f"/api/v1/users/{user['id']}", json={"role": "producer"})
    assert changed.json["data"]["role"] == "producer"
    assert "jobs.pin" in changed.json["data"]["permissions"]
    assert api.get(f"/api/v1/users/{user['id']}").json["data"]["role"] == "producer"
    names = [u["name"] for u in api.get("/api/v1/users").json["data"]]
    assert names == ["admin", "tess"]
    taken = api.post("/api/v1/users", json={"name": "tess"})
    assert taken.status_code == 400 and "taken" in taken.json["message"]


def test_delete_is_soft_and_restore_brings_the_account_back(
    app: Flask, api: FlaskClient, services
) -> None:
    token = user_token(services, "ana", Role.ARTIST)
    ana = client_as(app, token)
    user_id = next(u["id"] for u in api.get("/api/v1/users").json["data"] if u["name"] == "ana")
    assert ana.get("/api/v1/jobs").status_code == 200
    deleted = api.delete(f"/api/v1/users/{user_id}")
    assert deleted.status_code == 200 and deleted.json["data"]["deleted"] is True
    assert ana.get("/api/v1/jobs").status_code == 401
    assert "ana" not in [u["name"] for u in api.get("/api/v1/users").json["data"]]
    listed = api.get("/api/v1/users?deleted=true").json["data"]
    assert any(u["name"] == "ana" and u["deleted"] for u in listed)
    assert api.put(f"/api/v1/users/{user_id}", json={"role": "td"}).status_code == 409
    restored = api.post(f"/api/v1/users/{user_id}/restore")
    assert restored.status_code == 200 and restored.json["data"]["deleted"] is False
    assert ana.get("/api/v1/jobs").status_code == 200
    assert api.post(f"/api/v1/users/{user_id}/restore").status_code == 409
    assert api.get("/api/v1/users/999").status_code == 404


def test_html_and_sql_ish_names_are_refused_and_text_is_stored_as_text(api: FlaskClient) -> None:
    for name in ("<script>alert(1)</script>", "x'; DROP TABLE users;--", "", "a" * 65):
        response = api.post("/api/v1/users", json={"name": name})
        assert response.status_code == 400, name
    short = api.post("/api/v1/users", json={"name": "ok", "password": "short"})
    assert short.status_code == 400


def _app(tmp_path: Path, mode: str) -> Flask:
    settings = Settings(data_dir=tmp_path / mode, auth=AuthSettings(registration=mode))  # type: ignore[arg-type]
    return create_app(settings, clock=FakeClock())


def register(client: FlaskClient) -> int:
    response = client.post(
        "/api/v1/auth/register", json={"username": "newbie", "password": "newbie-password"}
    )
    return response.status_code


def login(client: FlaskClient) -> int:
    response = client.post(
        "/api/v1/auth/login", json={"username": "newbie", "password": "newbie-password"}
    )
    return response.status_code


def test_registration_waits_for_an_admin_by_default(tmp_path: Path) -> None:
    app = _app(tmp_path, "approval")
    anonymous = app.test_client()
    assert register(anonymous) == 201
    assert login(anonymous) == 401
    admin = client_as(app, user_token(app.extensions["cloudburst"], "root", Role.ADMIN))
    newbie = next(u for u in admin.get("/api/v1/users").json["data"] if u["name"] == "newbie")
    assert newbie["active"] is False and newbie["role"] == "artist"
    assert admin.put(f"/api/v1/users/{newbie['id']}", json={"active": True}).status_code == 200
    assert login(anonymous) == 200


@pytest.mark.parametrize(
    ("mode", "registers", "logs_in"), [("open", 201, 200), ("disabled", 403, 401)]
)
def test_open_and_disabled_registration(
    tmp_path: Path, mode: str, registers: int, logs_in: int
) -> None:
    anonymous = _app(tmp_path, mode).test_client()
    assert register(anonymous) == registers
    assert login(anonymous) == logs_in
