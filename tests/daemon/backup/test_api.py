"""``GET /api/v1/backups`` over real HTTP: admins see the backups, nobody else does."""

from __future__ import annotations

from pathlib import Path

from common.accounts import Role
from common.backup_settings import BackupSettings
from common.config import Settings
from daemon.app import Services, create_app
from tests.conftest import FakeClock, user_token
from tests.daemon.backup.helpers import get, serve_app


def test_admins_list_the_backups_and_nobody_else(tmp_path: Path) -> None:
    backup = BackupSettings(destination=str(tmp_path / "backups"))
    app = create_app(Settings(data_dir=tmp_path / "data", backup=backup), clock=FakeClock())
    services: Services = app.extensions["cloudburst"]
    admin = user_token(services, "root", Role.ADMIN)
    td = user_token(services, "tess", Role.TD)
    taken = [services.backups.take().id for _ in range(2)]

    with serve_app(app) as url:
        listed = get(url, "/backups", admin)
        assert listed.status_code == 200, listed.text
        data = listed.json()["data"]
        assert [b["id"] for b in data] == sorted(taken)
        assert data[0]["kind"] == "full" and data[1]["base"] == data[0]["id"]
        refused = get(url, "/backups", td)
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert get(url, "/backups", "").status_code == 401


def test_a_daemon_without_a_destination_says_how_to_set_one(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"), clock=FakeClock())
    admin = user_token(app.extensions["cloudburst"], "root", Role.ADMIN)
    with serve_app(app) as url:
        answer = get(url, "/backups", admin)
    assert answer.status_code == 404
    assert answer.json()["code"] == "backups_off"
    assert "[backup]" in answer.json()["message"]
