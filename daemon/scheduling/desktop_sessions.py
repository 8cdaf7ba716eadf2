"""Pure rules of desktop sessions: which profiles a person is offered, how long a session may
last, what it costs, and what the sessions pass does to each live session now.

No clock, no database: ``now`` and the facts are arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC

from common.desktop_settings import DesktopProfile, SessionSettings
from common.models import ENDABLE_SESSION_STATES, READY_SESSION_STATES
from daemon.scheduling.time_words import clock, duration

#: A desktop nobody has used for this long is ``idle`` (it ends after its idle timeout).
IDLE_AFTER_S = 300.0
#: The shortest time a launched desktop is billed for.
MIN_BILLED_S = 60.0


# --- who is offered what -------------------------------------------------------------------------


def may_open(project: str, confidential: Collection[str], mine: Collection[str]) -> bool:
    """A confidential project is opened by its members only (``mine``: the user's projects)."""
    return project not in confidential or project in mine


def offered(profile: DesktopProfile, confidential: Collection[str], mine: Collection[str]) -> bool:
    """A profile is offered when it names no project, or one the user may open."""
    if not profile.projects:
        return True
    return any(may_open(p, confidential, mine) for p in profile.projects)


def max_duration_h(profile: DesktopProfile, settings: SessionSettings) -> float:
    """The longest session of ``profile``: its own limit, never past ``[sessions]``'s."""
    if profile.max_duration_h is None:
        return settings.max_duration_h
    return min(profile.max_duration_h, settings.max_duration_h)


def idle_timeout_s(profile: DesktopProfile, settings: SessionSettings) -> float:
    return profile.idle_timeout_s if profile.idle_timeout_s is not None else settings.idle_timeout_s


# --- money ---------------------------------------------------------------------------------------


def billed_seconds(launched_at: float, end: float) -> float:
    """Per-second billing from the launch, at least ``MIN_BILLED_S``."""
    return max(MIN_BILLED_S, end - launched_at)


def session_cost(price_per_hour: float, launched_at: float, end: float) -> float:
    return billed_seconds(launched_at, end) * price_per_hour / 3600.0


# --- the sessions pass ---------------------------------------------------------------------------


class Step(enum.StrEnum):
    """What the pass does to one live session now."""

    NOTHING = "nothing"
    WARN = "warn"
    """Tell the desktop its session ends soon."""
    END_AT_DURATION = "end_at_duration"
    """Its time is up: tell the desktop to end (terminated after the grace)."""
    END_IDLE = "end_idle"
    """Nobody used it for its idle timeout: tell it to end."""
    END_USER_GONE = "end_user_gone"
    """Its user was deactivated or deleted: tell it to end."""
    FAIL_BOOT = "fail_boot"
    """Its desktop never reported within ``boot_timeout_s``: failed, terminated."""
    FAIL_SILENT = "fail_silent"
    """Its desktop stopped reporting for ``report_timeout_s``: failed, terminated."""
    LOST = "lost"
    """Its instance is gone behind the daemon's back: failed."""
    TERMINATE = "terminate"
    """Told to end and its grace (and end snapshot) is over: terminate it, ended."""


@dataclass(frozen=True)
class SessionFacts:
    """What the pass knows of one live session."""

    state: str
    created_at: float
    ends_at: float
    idle_timeout_s: float
    warned_at: float | None = None
    end_requested_at: float | None = None
    last_report_at: float | None = None
    connected: bool = False
    idle_s: float | None = None
    """Idle seconds as the desktop last reported them (at ``last_report_at``)."""
    instance_gone: bool = False
    """It has one and the cloud no longer lists it."""
    end_snapshot_pending: bool = False
    user_active: bool = True
    """Its user is active and not deleted."""
    listening_since: float = 0.0
    """When this daemon started taking reports: a desktop's silence before (the daemon was
    down) is not held against it, nor a boot that ended then."""


def idle_now(facts: SessionFacts, now: float) -> float:
    """Seconds nobody has used the desktop, counted on from its last report."""
    if facts.connected or facts.idle_s is None or facts.last_report_at is None:
        return 0.0
    return facts.idle_s + max(0.0, now - facts.last_report_at)


def next_step(facts: SessionFacts, settings: SessionSettings, now: float) -> Step:
    """The one thing to do to a live session now; the most serious first."""
    if facts.state == "ending":  # told to end: an instance gone meanwhile ends it as asked
        grace_over = now >= (facts.end_requested_at or now) + settings.end_grace_s
        return Step.TERMINATE if grace_over and not facts.end_snapshot_pending else Step.NOTHING
    if facts.instance_gone:
        return Step.LOST
    since = facts.listening_since
    if facts.state == "provisioning":
        if now - max(facts.created_at, since) >= settings.boot_timeout_s:
            return Step.FAIL_BOOT
    elif now - max(facts.last_report_at or facts.created_at, since) >= settings.report_timeout_s:
        return Step.FAIL_SILENT
    if not facts.user_active:
        return Step.END_USER_GONE
    if now >= facts.ends_at:
        return Step.END_AT_DURATION
    if facts.state in READY_SESSION_STATES and idle_now(facts, now) >= facts.idle_timeout_s:
        return Step.END_IDLE
    if facts.warned_at is None and now >= facts.ends_at - settings.warn_before_end_s:
        return Step.WARN
    return Step.NOTHING


def reported_state(state: str, connected: bool, idle_s: float) -> str:
    """A live desktop's state after a report: ready once it reports, idle when nobody has used
    it for ``IDLE_AFTER_S``, ready again on a connection. ``ending`` stays."""
    if state not in ENDABLE_SESSION_STATES:
        return state
    return "idle" if not connected and idle_s >= IDLE_AFTER_S else "ready"


def warning(ends_at: float, now: float) -> str:
    """What the desktop shows its user as the end nears."""
    left = duration(max(0.0, ends_at - now), exact=True)
    return f"This session ends at {clock(ends_at, now, UTC)} UTC (in {left}): save your work."


ENDING_NOW = "This session is ending now: save your work, the desktop stops in a moment."
