"""Spans and clock times in words: the one duration formatter of ranks, routes and the pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from daemon.scheduling.time_words import clock, duration

DAY = 86400.0
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(30, "30 s"), (600, "10 min"), (5 * 3600, "5 h"), (3 * DAY, "3 days"), (-7200, "2 h")],
)
def test_duration_in_one_rounded_unit(seconds: float, words: str) -> None:
    assert duration(seconds) == words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (89.4, "89 s"), (90, "2 min"), (5399, "90 min"), (5400, "2 h"), (172799, "48 h"),
        (172800, "2 days"),
    ],
)  # fmt: skip
def test_one_unit_takes_over_at_one_and_a_half_of_it(seconds: float, words: str) -> None:
    # The wording of ranks and of the pool: "due in 2 days", "waiting 3 h".
    assert duration(seconds) == words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (40, "40 s"), (59.4, "59 s"), (60, "1 min"), (3569, "59 min"), (3570, "1 h"),
        (7200, "2 h"), (7800, "2 h 10 min"), (172769, "47 h 59 min"), (172770, "2 days"),
        (273600, "3 days 4 h"), (-15300, "4 h 15 min"), (4 * DAY + 1800, "4 days"),
    ],
)  # fmt: skip
def test_exact_says_two_units(seconds: float, words: str) -> None:
    # The wording of routes: "4 h 15 min after the due date".
    assert duration(seconds, exact=True) == words


@pytest.mark.parametrize(
    ("hours", "words"),
    [(9.5, "18:30"), (30, "Wed 15:00"), (145, "Mon 10:00"), (216, "19 Mar 09:00"),
     (-20, "9 Mar 13:00")],
)  # fmt: skip
def test_clock_names_the_day_only_when_it_is_not_today(hours: float, words: str) -> None:
    assert clock(NOW + hours * 3600, NOW, UTC) == words


def test_clock_reads_in_the_studios_time_zone() -> None:
    # 10:00 UTC is midnight in Honolulu, the day after 23:00 of "now" there.
    assert clock(NOW + 3600, NOW, timezone(timedelta(hours=-10))) == "Tue 00:00"
