"""The schedule's choice of kind, and retention: pure functions, time given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.models import BackupKind
from daemon.backup.policy import BackupRef, next_kind, to_keep

SUNDAY = 6
FULL, INCR = BackupKind.FULL, BackupKind.INCREMENTAL


def at(day: str, hour: int = 2) -> float:
    """Epoch seconds of ``day`` (YYYY-MM-DD) at ``hour`` UTC."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC).timestamp()


def ref(day: str, kind: BackupKind, base: str | None = None, hour: int = 2) -> BackupRef:
    return BackupRef(f"{day}-{kind.value}-{hour}", kind, base, at(day, hour))


# 2027-03-07 is a Sunday.
@pytest.mark.parametrize(
    ("existing", "now", "expected"),
    [
        ([], at("2027-03-10"), FULL),  # nothing yet
        ([ref("2027-03-07", FULL)], at("2027-03-08"), INCR),  # Monday
        ([ref("2027-03-07", FULL)], at("2027-03-14"), FULL),  # the next Sunday
        ([ref("2027-03-14", FULL, hour=1)], at("2027-03-14"), INCR),  # Sunday's full is taken
        ([ref("2027-03-07", FULL)], at("2027-03-15"), FULL),  # Sunday was missed: a week old
        ([ref("2027-03-07", INCR)], at("2027-03-08"), FULL),  # incrementals alone: no full
    ],
)
def test_the_kind_follows_the_weekly_day(
    existing: list[BackupRef], now: float, expected: BackupKind
) -> None:
    assert next_kind(existing, now, SUNDAY, UTC) is expected


def test_the_weekly_day_is_counted_in_the_studios_time_zone() -> None:
    full = ref("2027-03-01", FULL)  # a Monday
    saturday_night_utc = at("2027-03-06", hour=23)  # already Sunday in Tokyo
    assert next_kind([full], saturday_night_utc, SUNDAY, ZoneInfo("Asia/Tokyo")) is FULL
    assert next_kind([full], saturday_night_utc, SUNDAY, UTC) is INCR


def daily_history(days: int) -> list[BackupRef]:
    """What a daily schedule with Sunday fulls leaves, from Sunday 2027-01-03 on."""
    start = datetime(2027, 1, 3, 2, tzinfo=UTC)
    made: list[BackupRef] = []
    base: str | None = None
    for offset in range(days):
        when = start + timedelta(days=offset)
        if when.weekday() == SUNDAY:
            backup = BackupRef(f"{offset:03d}-full", FULL, None, when.timestamp())
            base = backup.id
        else:
            backup = BackupRef(f"{offset:03d}-incr", INCR, base, when.timestamp())
        made.append(backup)
    return made


def test_the_seed_policy_keeps_seven_days_and_four_weeks() -> None:
    history = daily_history(60)
    keep = to_keep(history, keep_daily=7, keep_weekly=4, zone=UTC)
    newest_days = {b.id for b in history[-7:]}
    fulls = [b.id for b in history if b.kind is FULL]
    assert newest_days <= keep
    assert set(fulls[-4:]) <= keep
    assert keep == newest_days | set(fulls[-4:])  # nothing else: the bases are among those
    assert len(keep) == 10  # the newest week's full is both a day and a week


@settings(max_examples=200, deadline=None)
@given(
    kinds=st.lists(st.sampled_from([FULL, INCR]), min_size=1, max_size=40),
    gaps=st.lists(st.integers(min_value=1, max_value=3 * 86400), min_size=40, max_size=40),
    keep_daily=st.integers(min_value=1, max_value=10),
    keep_weekly=st.integers(min_value=0, max_value=6),
)
def test_retention_never_keeps_an_incremental_without_its_full(
    kinds: list[BackupKind], gaps: list[int], keep_daily: int, keep_weekly: int
) -> None:
    history: list[BackupRef] = []
    now = at("2027-01-01")
    base: str | None = None
    for index, kind in enumerate(kinds):
        now += gaps[index]
        if kind is INCR and base is None:
            kind = FULL
        backup = BackupRef(f"{index:03d}", kind, None if kind is FULL else base, now)
        base = backup.id if kind is FULL else base
        history.append(backup)
    keep = to_keep(history, keep_daily, keep_weekly, UTC)
    by_id = {b.id: b for b in history}
    for backup_id in keep:
        backup = by_id[backup_id]
        assert backup.base is None or backup.base in keep
    assert history[-1].id in keep
    newest_full = max((b for b in history if b.kind is FULL), key=lambda b: b.created_at)
    assert newest_full.id in keep
    assert len(keep) <= 2 * (keep_daily + keep_weekly) + 2
