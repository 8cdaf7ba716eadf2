"""Which kind of backup to take now, and which backups retention keeps. Pure: no IO, ``now``
and the time zone are arguments.

The studio's policy: a full backup on the weekly day (or when the newest full is a week old,
or there is none), an incremental on the other days; keep the newest backup of each of the
``keep_daily`` most recent days and the newest full of each of the ``keep_weekly`` most recent
weeks. An incremental is never kept without its full, and the newest backup and the newest
full are always kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from common.models import BackupKind

WEEK_S = 7 * 86400.0


@dataclass(frozen=True)
class BackupRef:
    """What the policy needs to know of one backup."""

    id: str
    kind: BackupKind
    base: str | None
    created_at: float


def _day(seconds: float, zone: tzinfo) -> date:
    return datetime.fromtimestamp(seconds, zone).date()


def newest_full(backups: Sequence[BackupRef]) -> BackupRef | None:
    fulls = [b for b in backups if b.kind is BackupKind.FULL]
    return max(fulls, key=lambda b: (b.created_at, b.id)) if fulls else None


def next_kind(
    backups: Sequence[BackupRef], now: float, full_weekday: int, zone: tzinfo
) -> BackupKind:
    """The kind of the backup to take at ``now``.

    Args:
        backups: the finished backups at the destination.
        now: epoch seconds.
        full_weekday: the weekly full's day (Monday is 0).
        zone: the time zone days are counted in.
    """
    full = newest_full(backups)
    if full is None or now - full.created_at >= WEEK_S:
        return BackupKind.FULL
    today = _day(now, zone)
    if today.weekday() == full_weekday and _day(full.created_at, zone) != today:
        return BackupKind.FULL
    return BackupKind.INCREMENTAL


def to_keep(
    backups: Sequence[BackupRef], keep_daily: int, keep_weekly: int, zone: tzinfo
) -> set[str]:
    """The ids retention keeps; every other backup may be deleted."""
    newest_first = sorted(backups, key=lambda b: (b.created_at, b.id), reverse=True)
    keep: set[str] = set()
    days: set[date] = set()
    weeks: set[tuple[int, int]] = set()
    for backup in newest_first:
        day = _day(backup.created_at, zone)
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(backup.id)
        week = day.isocalendar()[:2]
        if backup.kind is BackupKind.FULL and week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(backup.id)
    if newest_first:
        keep.add(newest_first[0].id)
    full = newest_full(backups)
    if full is not None:
        keep.add(full.id)
    present = {b.id for b in backups}
    keep |= {b.base for b in backups if b.id in keep and b.base in present}
    return keep
