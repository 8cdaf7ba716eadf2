"""The pure rules of desktop sessions: offers, limits, cost, and the pass's one step."""

from __future__ import annotations

import pytest

from common.desktop_settings import DesktopProfile, SessionSettings
from daemon.scheduling.desktop_sessions import (
    SessionFacts,
    Step,
    billed_seconds,
    max_duration_h,
    next_step,
    offered,
    reported_state,
    session_cost,
    warning,
)

SETTINGS = SessionSettings(warn_before_end_s=900, end_grace_s=120, boot_timeout_s=900,
                           report_timeout_s=180, max_duration_h=12)  # fmt: skip
NOW = 1_800_000_000.0


def facts(**overrides: object) -> SessionFacts:
    values: dict[str, object] = {
        "state": "ready", "created_at": NOW - 600, "ends_at": NOW + 3600,
        "idle_timeout_s": 3600, "last_report_at": NOW - 5, "idle_s": 0.0,
    }  # fmt: skip
    values.update(overrides)
    return SessionFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("projects", "mine", "expected"),
    [
        ([], set(), True),
        (["show"], set(), True),
        (["vault"], set(), False),
        (["vault"], {"vault"}, True),
        (["vault", "show"], set(), True),
    ],
)
def test_a_confidential_projects_profile_is_offered_to_its_members(
    projects: list[str], mine: set[str], expected: bool
) -> None:
    profile = DesktopProfile(name="p", projects=projects)
    assert offered(profile, {"vault"}, mine) is expected


def test_a_profiles_duration_never_passes_the_farms() -> None:
    assert max_duration_h(DesktopProfile(name="p"), SETTINGS) == 12
    assert max_duration_h(DesktopProfile(name="p", max_duration_h=4), SETTINGS) == 4
    assert max_duration_h(DesktopProfile(name="p", max_duration_h=48), SETTINGS) == 12


def test_cost_is_per_second_with_a_minimum_minute() -> None:
    assert billed_seconds(0, 10) == 60
    assert session_cost(3.6, 0, 10) == pytest.approx(0.06)
    assert session_cost(3.6, 0, 3600) == pytest.approx(3.6)


@pytest.mark.parametrize(
    ("overrides", "step"),
    [
        ({}, Step.NOTHING),
        ({"ends_at": NOW + 900}, Step.WARN),
        ({"ends_at": NOW + 900, "warned_at": NOW - 1}, Step.NOTHING),
        ({"ends_at": NOW}, Step.END_AT_DURATION),
        ({"idle_s": 3500.0, "last_report_at": NOW - 100}, Step.END_IDLE),
        ({"idle_s": 3500.0, "last_report_at": NOW - 100, "connected": True}, Step.NOTHING),
        ({"last_report_at": NOW - 180}, Step.FAIL_SILENT),
        # silent only while the daemon was down (it started 100 s ago): not held against it
        ({"last_report_at": NOW - 900, "listening_since": NOW - 100}, Step.NOTHING),
        ({"last_report_at": NOW - 900, "listening_since": NOW - 180}, Step.FAIL_SILENT),
        ({"state": "provisioning", "last_report_at": None, "created_at": NOW - 2000,
          "listening_since": NOW - 100}, Step.NOTHING),
        ({"state": "provisioning", "last_report_at": None, "created_at": NOW - 900},
         Step.FAIL_BOOT),
        ({"state": "provisioning", "last_report_at": None, "created_at": NOW - 899},
         Step.NOTHING),
        ({"instance_gone": True}, Step.LOST),
        ({"state": "ending", "end_requested_at": NOW - 120, "instance_gone": True},
         Step.TERMINATE),
        ({"state": "ending", "end_requested_at": NOW - 119}, Step.NOTHING),
        ({"state": "ending", "end_requested_at": NOW - 120}, Step.TERMINATE),
        ({"state": "ending", "end_requested_at": NOW - 500, "end_snapshot_pending": True},
         Step.NOTHING),
    ],
)  # fmt: skip
def test_the_pass_takes_one_step(overrides: dict[str, object], step: Step) -> None:
    assert next_step(facts(**overrides), SETTINGS, NOW) is step


@pytest.mark.parametrize(
    ("state", "connected", "idle_s", "after"),
    [("provisioning", False, 0, "ready"), ("ready", False, 300, "idle"),
     ("idle", True, 0, "ready"), ("idle", False, 299, "ready"), ("ending", True, 0, "ending")],
)  # fmt: skip
def test_a_report_moves_the_state(state: str, connected: bool, idle_s: float, after: str) -> None:
    assert reported_state(state, connected, idle_s) == after


def test_the_warning_says_when_in_utc_and_what_to_do() -> None:
    assert warning(NOW + 900, NOW) == (
        "This session ends at 08:15 UTC (in 15 min): save your work."
    )
