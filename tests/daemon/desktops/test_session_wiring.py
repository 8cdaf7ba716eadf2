"""The daemon runs the sessions pass once at its start and then every ``[sessions]
interval_s``, only where desktops are on."""

from __future__ import annotations

from pathlib import Path

from common.accounts import Role
from common.config import Settings
from common.models import SessionCreate
from daemon.app import create_app
from daemon.auth import Principal
from daemon.container import services_of
from daemon.server import desktop_passes
from tests.conftest import FakeClock, user_token
from tests.daemon.desktops.desk import desk_settings
from tests.daemon.desktops.memory_backend import MemoryDesktops


def test_the_pass_runs_at_the_start_and_on_the_interval(tmp_path: Path) -> None:
    clock = FakeClock()
    settings = desk_settings(tmp_path)
    services = services_of(create_app(settings, clock=clock, desktop_backend=MemoryDesktops(clock)))
    user_token(services, "ana", Role.ARTIST)
    ana = Principal(kind="user", name="ana", role=Role.ARTIST, user_id=1)
    session = services.sessions.create(SessionCreate(profile="std"), ana)
    services.sessions.settle()
    clock.advance(settings.sessions.boot_timeout_s)  # the daemon was down meanwhile
    passes = desktop_passes(services, settings)
    assert passes == {
        "desktop-sessions": (services.sessions.run_pass, settings.sessions.interval_s),
        "desktop-snapshots": (
            services.snapshots.run_schedules,
            settings.sessions.snapshot_interval_s,
        ),
    }
    assert services.sessions.get(session.id, ana).state == "failed"  # judged at the start
    services.sessions.close()


def test_no_pass_while_desktops_are_off(tmp_path: Path) -> None:
    services = services_of(create_app(Settings(data_dir=tmp_path / "data"), clock=FakeClock()))
    assert services.desktop_backend is None
    assert desktop_passes(services, services.context.settings) == {}
    services.sessions.close()
