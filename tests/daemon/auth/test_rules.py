"""Attribute rules: confidential projects never go to the cloud; ownership of submissions."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from common.config import AuthSettings, Settings
from daemon.app import Services, create_app
from daemon.auth.principal import ANONYMOUS, Principal
from daemon.auth.rules import may_touch_desktop, owns_desktop
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.calls import job_body, snapshot, submit


def test_a_confidential_project_never_goes_to_the_cloud(
    app: Flask, api: FlaskClient, services: Services
) -> None:
    earlier = submit(api, project="secret", placement="auto")
    mark = api.put("/api/v1/projects/secret/confidential", json={"confidential": True})
    assert mark.status_code == 200 and mark.json["data"]["updated_by"] == "admin"
    assert api.get(f"/api/v1/jobs/{earlier['id']}").json["data"]["spec"]["placement"] == (
        "never-cloud"
    )
    ana = client_as(app, user_token(services, "ana", Role.ARTIST))
    for caller in (api, ana):  # whoever asks
        before = snapshot(services)
        refused = caller.post("/api/v1/jobs", json=job_body(project="secret", placement="cloud"))
        assert refused.status_code == 403 and "confidential" in refused.json["message"]
        assert snapshot(services) == before
    forced = ana.post("/api/v1/jobs", json=job_body(project="secret", placement="auto"))
    assert forced.status_code == 201
    assert forced.json["data"]["spec"]["placement"] == "never-cloud"
    other = ana.post("/api/v1/jobs", json=job_body(project="public", placement="cloud"))
    assert other.json["data"]["spec"]["placement"] == "cloud"
    listed = api.get("/api/v1/projects").json["data"]
    assert [(p["name"], p["confidential"]) for p in listed] == [("secret", True)]


def test_confidential_projects_from_the_configuration(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, auth=AuthSettings(confidential_projects=["vault"]))
    app = create_app(settings, clock=FakeClock())
    admin = client_as(app, user_token(app.extensions["cloudburst"], "root", Role.ADMIN))
    refused = admin.post("/api/v1/jobs", json=job_body(project="vault", placement="cloud"))
    assert refused.status_code == 403
    assert admin.get("/api/v1/projects").json["data"][0]["confidential"] is True


def test_an_artist_owns_what_they_submit(app: Flask, services: Services) -> None:
    ana = client_as(app, user_token(services, "ana", Role.ARTIST))
    before = snapshot(services)
    other = ana.post("/api/v1/jobs", json=job_body(owner="ben"))
    assert other.status_code == 403 and "ben" in other.json["message"]
    assert snapshot(services) == before
    own = ana.post("/api/v1/jobs", json=job_body(owner="ana"))
    assert own.status_code == 201 and own.json["data"]["spec"]["owner"] == "ana"
    td = client_as(app, user_token(services, "tess", Role.TD))
    assert td.post("/api/v1/jobs", json=job_body(owner="ben")).status_code == 201


def test_every_denial_is_logged_with_its_reason(
    app: Flask, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    ana = client_as(app, user_token(services, "ana", Role.ARTIST))
    with caplog.at_level(logging.WARNING, logger="daemon.api.guard"):
        assert app.test_client().get("/api/v1/jobs").status_code == 401
        assert ana.get("/api/v1/users").status_code == 403
    denials = [r.getMessage() for r in caplog.records if r.name == "daemon.api.guard"]
    assert len(denials) == 2
    assert denials[0].startswith("denied GET /api/v1/jobs") and "Sign in" in denials[0]
    assert "/api/v1/users" in denials[1] and "users.manage" in denials[1]


def test_ones_own_desktops_are_known_by_account_id_and_managers_see_everyones() -> None:
    row = {"user_id": 7, "user_name": "ana"}
    ana = Principal(kind="user", name="ana", role=Role.ARTIST, user_id=7)
    assert owns_desktop(ana, row) and may_touch_desktop(ana, row)
    named_alike = Principal(kind="user", name="ana", role=Role.ARTIST, user_id=8)
    agent_named_alike = Principal(kind="agent", name="ana", agent_id="a1")
    for stranger in (named_alike, agent_named_alike, ANONYMOUS):
        assert not owns_desktop(stranger, row) and not may_touch_desktop(stranger, row)
    tess = Principal(kind="user", name="tess", role=Role.TD, user_id=9)
    assert may_touch_desktop(tess, row) and not owns_desktop(tess, row)  # no token of ana's
