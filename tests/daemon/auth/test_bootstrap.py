"""The first admin from the command line, and the local admin file of one-machine use."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from common.cli.local_admin import local_admin
from common.config import Settings
from daemon.app import Services, create_app
from daemon.services.auth import LOCAL_ADMIN_FILE
from daemon.users_cli import user_group
from tests.conftest import FakeClock, client_as


def test_the_local_admin_file_is_written_once_and_private(app: Flask, services: Services) -> None:
    data_dir = services.context.settings.data_dir
    services.auth.ensure_local_admin()
    path = data_dir / LOCAL_ADMIN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    services.auth.ensure_local_admin()
    assert path.read_text() == first
    token = local_admin(data_dir).token
    assert token == json.loads(first)["token"]
    client = client_as(app, token)
    me = client.get("/api/v1/auth/me").json["data"]
    assert me["name"] == "local-admin" and me["role"] == "admin"
    assert client.post("/api/v1/agents/enrollment-tokens").status_code == 201
    denied = client.post("/api/v1/auth/login", json={"username": "local-admin", "password": "x"})
    assert denied.status_code == 401  # no password: the file is the only way in


def test_user_add_makes_the_first_admin(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runner = CliRunner()
    result = runner.invoke(
        user_group, ["add", "root", "--role", "admin", "--password-stdin", "--data-dir",
                     str(data_dir)], input="a long admin password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "root" in result.output and "admin" in result.output
    taken = runner.invoke(
        user_group, ["add", "root", "--password-stdin", "--data-dir", str(data_dir)],
        input="another long password\n",
    )  # fmt: skip
    assert taken.exit_code == 1 and "taken" in taken.output
    app = create_app(Settings(data_dir=data_dir), clock=FakeClock())
    response = app.test_client().post(
        "/api/v1/auth/login", json={"username": "root", "password": "a long admin password"}
    )
    assert response.status_code == 200
    assert response.json["data"]["user"]["role"] == "admin"
