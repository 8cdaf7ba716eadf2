"""When a desktop's daily snapshot is due. Pure: ``now`` is an argument; days are UTC days.

A scheduled session is snapshotted once a day, at the first pass after its profile's
``snapshots.time``: the newest such moment at or before now is the day's slot, and the slot is
due while nothing was taken since it (a daemon that was down at the slot catches up once, at
its next pass). Which kind to take and what to keep is ``daemon.backup.policy``'s, the rule
the daemon's own backups follow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DAY = timedelta(days=1)


def latest_slot(now: float, time_of_day: str) -> float:
    """The newest moment at or before ``now`` that is ``time_of_day`` (``HH:MM``, UTC)."""
    hour, minute = (int(part) for part in time_of_day.split(":"))
    moment = datetime.fromtimestamp(now, UTC)
    slot = moment.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > moment:
        slot -= DAY
    return slot.timestamp()


def due(now: float, time_of_day: str, since: float) -> bool:
    """Whether the day's snapshot is still to take.

    Args:
        now: epoch seconds.
        time_of_day: the profile's ``snapshots.time`` (``HH:MM``, UTC).
        since: when the newest scheduled snapshot was taken, else when the schedule began
            (the first one is then taken at the next slot, not at once).
    """
    return since < latest_slot(now, time_of_day)
