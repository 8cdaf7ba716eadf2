"""The daily snapshots of scheduled sessions and their retention: the pure slot rule, and a
simulated month of hourly passes on a fake clock and an in-memory cloud."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from common.accounts import Role
from common.models import SnapshotCreate
from daemon.app import create_app
from daemon.auth.principal import Principal
from daemon.backends.desktops import BackupState
from daemon.container import Services
from daemon.scheduling.snapshot_days import due, latest_slot
from tests.conftest import FakeClock, user_token
from tests.daemon.desktops.memory_backend import MemoryDesktops
from tests.daemon.desktops.snapshot_helpers import desktop_settings, start_session

START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
HOUR = 3600.0


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        ("2026-03-04T10:00", "2026-03-04T02:00"),
        ("2026-03-04T02:00", "2026-03-04T02:00"),
        ("2026-03-04T01:59", "2026-03-03T02:00"),
        ("2026-03-01T00:30", "2026-02-28T02:00"),
    ],
)
def test_the_days_slot_is_the_newest_time_of_day_passed(now: str, slot: str) -> None:
    assert latest_slot(at(now), "02:00") == at(slot)


@pytest.mark.parametrize(
    ("now", "since", "expected"),
    [
        ("2026-03-04T01:00", "2026-03-03T02:00", False),  # today's slot is still to come
        ("2026-03-04T02:00", "2026-03-03T02:00", True),  # it has come
        ("2026-03-04T23:00", "2026-03-04T02:00", False),  # taken today already
        ("2026-03-06T05:00", "2026-03-03T02:00", True),  # a daemon down for days: once
        ("2026-03-04T10:00", "2026-03-04T09:00", False),  # scheduled after today's slot
    ],
)
def test_a_slot_is_due_while_nothing_was_taken_since(now: str, since: str, expected: bool) -> None:
    assert due(at(now), "02:00", at(since)) is expected


class Month:
    """A daemon with one scheduled session of ana's on an in-memory cloud."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock(START.timestamp())
        self.backend = MemoryDesktops(self.clock)
        app = create_app(desktop_settings(tmp_path), clock=self.clock, desktop_backend=self.backend)
        self.services: Services = app.extensions["cloudburst"]
        user_token(self.services, "ana", Role.ARTIST)
        ana = next(u for u in self.services.users.list_users() if u.name == "ana")
        self.ana = Principal(kind="user", name="ana", role=Role.ARTIST, user_id=ana.id)

    def schedule(self) -> tuple[dict[str, Any], int]:
        """A session of ana's, scheduled; returns it and the snapshot taken by hand with it."""
        session = start_session(self.services, self.backend, "ana")
        create = SnapshotCreate(session_id=session["id"], schedule=True)
        return session, self.services.snapshots.create(create, self.ana).id

    def run_hours(self, hours: int) -> int:
        taken = 0
        for _ in range(hours):
            self.clock.advance(HOUR)
            taken += self.services.snapshots.run_schedules()
        return taken

    def rows(self, where: str = "1", args: list[Any] | None = None) -> list[dict[str, Any]]:
        db = self.services.context.database.db
        return list(
            db.query(f"SELECT * FROM desktop_snapshots WHERE {where} ORDER BY id", args or [])
        )


def day_of(row: dict[str, Any]) -> date:
    return datetime.fromtimestamp(row["created_at"], UTC).date()


def test_a_month_of_hourly_passes_keeps_7_days_and_4_weekly_fulls(tmp_path: Path) -> None:
    month = Month(tmp_path)
    session, manual_id = month.schedule()
    days = 33
    taken = month.run_hours(days * 24)

    scheduled = month.rows("scheduled = 1 AND session_id = ?", [session["id"]])
    taken_days = [day_of(row) for row in scheduled]
    # One a day, at the profile's time, every day since the schedule began; none twice a day.
    assert taken == len(scheduled) == days
    assert taken_days == [START.date() + timedelta(days=n) for n in range(1, days + 1)]
    assert {datetime.fromtimestamp(r["created_at"], UTC).strftime("%H:%M") for r in scheduled} == {
        "02:00"
    }
    # Full on Sundays (and the first, with no full before it), incremental the other days.
    kinds = ["full" if n == 0 or d.weekday() == 6 else "incremental"
             for n, d in enumerate(taken_days)]  # fmt: skip
    assert [row["kind"] for row in scheduled] == kinds

    end = taken_days[-1]
    last_seven = {end - timedelta(days=n) for n in range(7)}
    last_four_sundays = sorted(d for d in taken_days if d.weekday() == 6)[-4:]
    assert last_four_sundays == [date(2026, 3, 15), date(2026, 3, 22), date(2026, 3, 29),
                                 date(2026, 4, 5)]  # fmt: skip
    kept = [row for row in scheduled if row["state"] == "available"]
    assert {day_of(row) for row in kept} == last_seven | set(last_four_sundays)
    assert {day_of(row) for row in kept if row["kind"] == "full"} >= set(last_four_sundays)

    deleted = [row for row in scheduled if row["state"] != "available"]
    assert len(deleted) == days - len(kept) and deleted
    db = month.services.context.database.db
    for row in deleted:
        assert row["state"] == "deleted" and row["deleted_at"] is not None
        assert month.backend.backups[row["backup_id"]].state is BackupState.TERMINATED
        assert ("delete_backup", row["backup_id"]) in month.backend.calls
        records = db.execute(
            "SELECT actor, action FROM desktop_audit WHERE snapshot_id = ? ORDER BY id",
            [row["id"]],
        ).fetchall()
        assert records == [("daemon", "snapshot.scheduled"), ("daemon", "snapshot.delete")]
    for row in kept:
        assert month.backend.backups[row["backup_id"]].state is BackupState.AVAILABLE
    # The snapshot ana took by hand is hers to delete: retention never touches it.
    assert month.rows("id = ?", [manual_id])[0]["state"] == "available"


def test_no_scheduled_snapshot_of_a_session_whose_desktop_does_not_run(tmp_path: Path) -> None:
    month = Month(tmp_path)
    ended, _ = month.schedule()
    lost, _ = month.schedule()
    running, _ = month.schedule()
    with month.services.context.database.transaction() as tx:
        tx.execute("UPDATE desktop_sessions SET state = 'ended' WHERE id = ?", [ended["id"]])
    month.backend.forget(lost["instance_id"])  # its snapshot fails; the others go on

    assert month.run_hours(24) == 1
    assert [row["session_id"] for row in month.rows("scheduled = 1")] == [running["id"]]


def test_a_session_whose_profile_is_gone_is_skipped(tmp_path: Path) -> None:
    month = Month(tmp_path)
    session, _ = month.schedule()
    with month.services.context.database.transaction() as tx:
        tx.execute("UPDATE desktop_sessions SET profile = 'retired' WHERE id = ?", [session["id"]])
    assert month.run_hours(48) == 0
    assert month.rows("scheduled = 1") == []


def test_without_a_schedule_nothing_is_taken(tmp_path: Path) -> None:
    month = Month(tmp_path)
    start_session(month.services, month.backend, "ana")
    assert month.run_hours(48) == 0
    assert month.rows() == []


def test_a_failed_daily_snapshot_is_tried_again_the_next_day_not_the_same(tmp_path: Path) -> None:
    month = Month(tmp_path)
    month.backend.backups_finish_at_once = False
    month.schedule()
    assert month.run_hours(17) == 1  # Wednesday 10:00 to Thursday 03:00: Thursday's slot
    first = month.rows("scheduled = 1")[0]
    month.backend.finish_backup(first["backup_id"], BackupState.FAULTY)
    assert month.services.snapshots.refresh(first["id"]).state == "failed"
    assert month.run_hours(22) == 0  # to Friday 01:00
    assert month.run_hours(1) == 1  # Friday's slot
    assert [row["state"] for row in month.rows("scheduled = 1")] == ["failed", "creating"]
