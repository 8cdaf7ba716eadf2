"""The sentence that explains a routing decision, said from its figures: pure, ``now`` is an
argument.

``routing`` decides in numbers (a ``RouteDecision`` with its ``Grounds`` and the room it gives
or asks for); this module alone words them. The burst pass stores the sentence with each route;
the API (``GET /jobs/{id}/route``) and the dashboard's job page show the stored sentence.
"""

from __future__ import annotations

from datetime import UTC, tzinfo

from common.models import Placement
from daemon.scheduling.budget import ShowBudget, money
from daemon.scheduling.routing import Misfit, Reason, RoomAsked, RoomOutcome, RouteDecision
from daemon.scheduling.time_words import clock, duration

_FIXED = {
    Reason.NOTHING_LEFT: "every frame is done or running; nothing to route",
    Reason.PLACEMENT_LOCAL: "placement is local: only the local farm renders it",
    Reason.PLACEMENT_NEVER_CLOUD: "placement is never-cloud: its frames never leave the building",
    Reason.NO_DUE_DATE: "no due date: the local farm takes it",
}


def sentence(decision: RouteDecision, now: float, tz: tzinfo = UTC) -> str:
    """Why the job's frames go where they go, in one sentence.

    Args:
        decision: what routing decided.
        now: the time of the pass that decided it (clock times are said relative to its day).
        tz: the studio's time zone, for the clock times.
    """
    said = _own(decision, now, tz)
    cloud = decision.own_frames
    for room in decision.room_for:
        more = "more " if cloud else ""
        said += (
            f"; {room.frames} {more}frames may go to the cloud to make room for job "
            f"{room.job_id}, paid by show {room.payer}"
        )
        cloud += room.frames
    if decision.room is not None:
        said += _room_asked(decision, decision.room, now, tz)
    return said


def _own(decision: RouteDecision, now: float, tz: tzinfo) -> str:
    """What ``route_job`` decided for the job's own frames."""
    grounds = decision.grounds
    reason, project = grounds.reason, grounds.project
    if reason in _FIXED:
        return _FIXED[reason]
    if reason is Reason.CONFIDENTIAL:
        return f"project {project} is confidential: its frames never leave the building"
    if reason is Reason.SHAPE_MISFIT and grounds.misfit is not None:
        return misfit_words(grounds.misfit)
    if reason is Reason.ON_TIME:
        where = _against_due_date(decision, now, tz, on_time=True)
        # A job that gives room to a job below it no longer stays local.
        return where if decision.room_for else f"{where}; it stays local"

    if grounds.placement is Placement.CLOUD:
        where = "placement is cloud"
    else:
        where = _against_due_date(decision, now, tz)

    def head(frames: int, go: str) -> str:
        return f"{where}; {frames} of {grounds.frame_count} frames {go}"

    needed = decision.needed_frames
    would = head(needed, "would go to the cloud")
    if reason is Reason.NO_CLOUD_BUDGET:
        return f"{would}, but show {project} has no cloud budget"
    if reason is Reason.BUDGET_SPENT:
        budget = _budget(decision)
        spent = f"{money(budget.spent + budget.committed)} of {money(budget.budget)}"
        return f"{would}, but show {project}'s cloud budget is spent ({spent})"
    if reason is Reason.BUDGET_SHORT:
        left = money(_budget(decision).room)
        return f"{would}, but show {project}'s cloud budget has {left} left, not enough for them"
    if reason is Reason.AWAIT_STAGING:
        return head(grounds.affordable, "will go to the cloud once its data is staged")
    said = head(grounds.affordable, "may go to the cloud")
    if grounds.affordable < needed:
        left = money(_budget(decision).room)
        said += f", as many as show {project}'s {left} left buys ({needed} needed)"
    return said


def misfit_words(misfit: Misfit) -> str:
    """``needs 1 GPU; the cloud shape VM.Standard.E5.Flex has none``."""
    shape = f"the cloud shape {misfit.shape}"
    if misfit.need == "gpus":
        has = "none" if misfit.has == 0 else f"{misfit.has}"
        return f"needs {_count(misfit.wanted, 'GPU')}; {shape} has {has}"
    if misfit.need == "memory":
        return f"needs {misfit.wanted:,} MB of memory; {shape} has {misfit.has:,} MB"
    return f"needs pool {misfit.wanted}; the nodes of {shape} join pool {misfit.has}"


def _count(n: int | str, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _room_asked(decision: RouteDecision, room: RoomAsked, now: float, tz: tzinfo) -> str:
    """What the jobs ahead could do for a job that must stay local and would be late."""
    grounds = decision.grounds
    late = _against_due_date(decision, now, tz)
    if room.outcome is RoomOutcome.BLOCKED:
        return f"; {late}, and the jobs ahead cannot make room in the cloud"
    if room.outcome is RoomOutcome.UNAFFORDABLE:
        budget = grounds.budget
        has = money(max(0.0, budget.room)) if budget is not None else "no budget"
        return (
            f"; {late}: room on the local farm would cost {money(room.cost)}, "
            f"show {grounds.project} has {has}"
        )
    return (
        f"; {late}: {room.frames} frames of {room.jobs} jobs ahead go to the cloud to make room, "
        f"paid by show {grounds.project} ({money(room.cost)})"
    )


def _against_due_date(
    decision: RouteDecision, now: float, tz: tzinfo, *, on_time: bool = False
) -> str:
    """``local farm finishes at 14:15, 4 h 15 min after the due date`` (or before it)."""
    finish, due = decision.local_finish_at, decision.grounds.due_at
    if finish is None or due is None:
        raise ValueError(f"job {decision.job_id}: no local finish or due date to compare")
    late = finish - due
    span = duration(late, exact=True)
    if late > 0:
        versus = f"{span} after the due date"
    elif on_time:
        versus = f"{span} before the due date"
    else:
        versus = f"only {span} before the due date"
    return f"local farm finishes at {clock(finish, now, tz)}, {versus}"


def _budget(decision: RouteDecision) -> ShowBudget:
    """The show's money a decision about money was made against."""
    if decision.grounds.budget is None:
        raise ValueError(f"job {decision.job_id}: a decision about money without a budget")
    return decision.grounds.budget
