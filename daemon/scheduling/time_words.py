"""Spans and clock times in words, for the sentences that explain scheduling decisions.

One formatter of durations serves the rank, the routes and the autoscaler: ``duration`` says a
span in one rounded unit (``45 s``, ``12 min``, ``5 h``, ``3 days``), or in two with ``exact``
(``40 s``, ``25 min``, ``2 h 10 min``, ``3 days 4 h``), where a sentence compares a prediction
with a due date and a rounded hour would hide the minutes that matter.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


def duration(seconds: float, *, exact: bool = False) -> str:
    """A span in words, its sign dropped.

    Args:
        seconds: the span; negative spans read as positive ones.
        exact: two units (``2 h 10 min``) instead of one rounded unit (``2 h``).

    One unit: each unit from one and a half of it (``75 s``, then ``2 min``), days from two.
    Two units: each unit from one of it (``1 min``), days from two; the smaller unit is left
    out when it rounds to nothing (``2 h``, ``3 days``).
    """
    seconds = abs(seconds)
    if seconds < (MINUTE if exact else 1.5 * MINUTE):
        return f"{seconds:.0f} s"
    if not exact:
        if seconds < 1.5 * HOUR:
            return f"{seconds / MINUTE:.0f} min"
        if seconds < 2 * DAY:
            return f"{seconds / HOUR:.0f} h"
        return f"{seconds / DAY:.0f} days"
    minutes = round(seconds / MINUTE)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return _two(minutes, 60, "h", "min")
    return _two(round(seconds / HOUR), 24, "days", "h")


def _two(count: int, per: int, big: str, small: str) -> str:
    whole, rest = divmod(count, per)
    return f"{whole} {big}" if rest == 0 else f"{whole} {big} {rest} {small}"


def clock(at: float, now: float, tz: tzinfo) -> str:
    """``18:40`` today, ``Tue 18:40`` within a week, ``12 Mar 18:40`` beyond (in ``tz``)."""
    when = datetime.fromtimestamp(at, tz)
    today = datetime.fromtimestamp(now, tz).date()
    days = (when.date() - today).days
    if days == 0:
        return when.strftime("%H:%M")
    if 0 < days < 7:
        return when.strftime("%a %H:%M")
    return when.strftime("%d %b %H:%M").lstrip("0")
