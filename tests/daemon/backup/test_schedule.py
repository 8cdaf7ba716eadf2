"""The daemon's daily backup as APScheduler triggers it, over weeks of a fake clock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.models import BackupKind
from tests.conftest import FakeClock
from tests.daemon.backup.helpers import build_farm
from tests.daemon.ops.helpers import store_file

DAY = 86400.0


def test_a_month_of_daily_backups_keeps_the_seed_policy_and_every_chain(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2027, 3, 3, 2, tzinfo=UTC).timestamp())  # a Wednesday, 02:00
    farm = build_farm(tmp_path, clock)
    service = farm.backups(tmp_path / "backups", keep_daily=3, keep_weekly=2)
    taken = []
    for day in range(30):
        if day % 4 == 0:  # the farm changes now and then
            store_file(farm.services, "ana", f"show/day{day}.exr", f"frame {day}".encode())
            farm.submit(f"day {day}")
        info = service.run_scheduled()
        assert info is not None
        taken.append(info)
        clock.advance(DAY)

    weekdays = {datetime.fromtimestamp(i.created_at.timestamp(), UTC).weekday() for i in taken
                if i.kind is BackupKind.FULL}  # fmt: skip
    assert taken[0].kind is BackupKind.FULL  # the first one, on a Wednesday
    assert weekdays == {2, 6}  # then Sundays only
    kept = service.list_backups()
    newest_days = [i.id for i in taken[-3:]]
    sunday_fulls = [i.id for i in taken if i.kind is BackupKind.FULL][-2:]
    assert {b.id for b in kept} == set(newest_days) | set(sunday_fulls)
    ids = {b.id for b in kept}
    assert all(b.base in ids for b in kept if b.base is not None)
    objects = {p.name for p in (tmp_path / "backups" / "objects").iterdir()}
    pruned = {i.id for i in taken} - ids
    assert len(pruned) == 30 - len(ids) and not objects & pruned  # gone from the destination
    assert objects <= ids  # (an incremental of a quiet day stores nothing of its own)
    for backup in kept:
        service.verify(backup.id)
    restored = tmp_path / "restored"
    service.restore(restored)
    assert (restored / "storage" / "show" / "day28.exr").read_bytes() == b"frame 28"


def test_a_failed_scheduled_backup_is_logged_and_the_daemon_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    farm = build_farm(tmp_path)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the destination folder should be")
    service = farm.backups(blocked)
    with caplog.at_level(logging.ERROR, logger="daemon.services.backup"):
        assert service.run_scheduled() is None
    assert "The scheduled backup to" in caplog.text
    assert blocked.read_text() == "a file where the destination folder should be"
