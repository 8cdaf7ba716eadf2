"""Which job an idle agent should work on next, and why: pure functions, ``now`` is an argument.

A job's score is a weighted sum of five parts, each a number in a fixed range:

- ShotGrid priority, 0..1 (production's priority of the linked Task or Shot, 0-100 scaled);
- due-date urgency, 0..1: one half when the spare time (time left to the due date less the
  work left, estimated from the job's measured frame times) equals ``due_horizon_s``, rising
  to 1 as the spare time runs out and staying 1 once the job cannot make it;
- artist priority, 0..1 (the job's own 0-100);
- age, 0..1: one half after ``age_half_s`` waiting;
- fair share, -1..1: ``1 - usage / target`` of the job's show, clamped.

The queue has three tiers: pinned jobs first; then jobs of shows under their share of the farm,
the show furthest under first (a show using its share or more yields to one below it, so shares
converge to their targets whatever the priorities); then the others. Inside a tier, and so
among the jobs of one show, the higher score goes first, then the job submitted first. Each part
and the tier are monotone in their inputs (and the arithmetic is ordered so that floating point
keeps it so): raising one input never lowers a job's place.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from common.models import RankPart, RankPartName
from daemon.scheduling.time_words import duration

#: Tiers (smaller first): pinned jobs, then shows under their share (-2 - (target - usage): the
#: furthest under first), then the rest (0).
PINNED_TIER = -10.0
UNDER_SHARE_TIER = -2.0
#: Usage this close to the target counts as at it (``16 / 24`` against ``2 / 3``).
SHARE_EPSILON = 1e-9


@dataclass(frozen=True)
class Policy:
    """The weights and scales of ranking (from ``Settings.ranking``)."""

    shotgrid_weight: float = 1.0
    due_weight: float = 1.0
    artist_weight: float = 0.5
    age_weight: float = 0.2
    fair_share_weight: float = 2.0
    due_horizon_s: float = 2 * 86400.0
    age_half_s: float = 86400.0
    default_frame_s: float = 60.0
    unlinked_priority: float = 50.0
    over_share_yields: bool = True
    """Jobs of a show over its share come after those of shows at or under theirs."""


class RankInput(NamedTuple):
    """What ranking needs to know about one unfinished job."""

    job_id: int
    project: str
    submitted_at: float
    artist_priority: int
    frame_count: int
    frames_done: int
    render_s: float
    """Render seconds of the finished tasks (for the seconds per frame)."""
    chunk_size: int
    due_at: float | None
    """The job's own due date."""
    sg_priority: float | None
    """Production's priority 0-100 from ShotGrid; None when unlinked or unset."""
    sg_label: str
    """The priority as ShotGrid shows it (``A``, ``High``, ``3``)."""
    sg_due_at: float | None
    pinned: bool


class ShowShare(NamedTuple):
    """A show's place in the farm's split at the time of a pass."""

    target: float
    """Share of the farm it should get, 0..1 (0: not competing, e.g. on hold)."""
    usage: float
    """Share of the farm it uses: its running tasks over the farm's capacity, 0..1."""
    fair: float
    """The fair-share part, -1..1."""


class Rank(NamedTuple):
    """A job's score and its parts; also the row stored in ``job_ranks``."""

    job_id: int
    tier: float
    """Smaller comes first: ``PINNED_TIER``, ``UNDER_SHARE_TIER - (target - usage)`` or 0."""
    sort_key: float
    """``-score``: inside a tier, smaller comes first."""
    submitted_at: float
    score: float
    pinned: bool
    sg: float
    due: float
    artist: float
    age: float
    fair: float
    sg_priority: float | None
    sg_label: str
    due_at: float | None
    due_source: str
    """``job``, ``shotgrid`` or empty."""
    work_s: float
    """Estimated seconds of rendering left (wall time on the farm)."""
    age_s: float
    usage: float
    target: float
    ranked_at: float


#: Fields of a ``Rank`` that change every pass without changing the queue (a clock and the
#: wait behind the age part); ``moved`` ignores them.
_EVERY_PASS = frozenset({"ranked_at", "age_s"})


def moved(old: Rank | None, new: Rank, rel_tol: float = 1e-3, abs_tol: float = 1e-4) -> bool:
    """Whether ``new`` differs from the stored ``old`` enough to be written again.

    A pass re-ranks every job, but most ranks only drift (the age part grows by millionths
    between passes); writing only the ranks that moved keeps the write-ahead log small. Floats
    compare within the tolerances, everything else exactly.
    """
    if old is None:
        return True
    for name, before, after in zip(Rank._fields, old, new, strict=True):
        if name in _EVERY_PASS or before == after:
            continue
        if not (isinstance(before, float) and isinstance(after, float)):
            return True
        if not math.isclose(before, after, rel_tol=rel_tol, abs_tol=abs_tol):
            return True
    return False


def show_shares(
    weights: Mapping[str, float],
    active: Mapping[str, int],
    competing: Collection[str],
    capacity: int = 0,
) -> dict[str, ShowShare]:
    """Each show's target share, usage and fair-share part.

    Args:
        weights: each show's share weight (missing: 1.0).
        active: tasks each show has leased or running now.
        competing: shows with waiting work that may get tasks (not on hold).
        capacity: tasks the farm can run at once (agents online); usage is a share of it, or
            of the running tasks when there are more.
    """
    total_active = max(capacity, sum(active.values()))
    weight = {show: weights.get(show, 1.0) for show in competing}
    total_weight = sum(weight.values())
    shares: dict[str, ShowShare] = {}
    for show in {*competing, *active}:
        usage = active.get(show, 0) / total_active if total_active else 0.0
        w = weight.get(show, 0.0)
        if w > 0:
            others = total_weight - w
            target = 1.0 - others / (w + others)  # = w / total, monotone in w under rounding
        else:
            target = 0.0
        fair = _clamp(1.0 - usage / target, -1.0, 1.0) if target > 0 else -1.0
        shares[show] = ShowShare(target=target, usage=usage, fair=fair)
    return shares


NO_SHARE = ShowShare(target=0.0, usage=0.0, fair=0.0)


def work_left_s(job: RankInput, policy: Policy, slots: int) -> float:
    """Wall seconds the farm needs for the job's remaining frames, at its measured pace.

    The remaining tasks run in waves of ``slots`` (agents online); each wave takes one task's
    time. Monotone in the frames left and in the seconds per frame.
    """
    return _work_left(
        job.frame_count, job.frames_done, job.render_s, job.chunk_size, policy.default_frame_s,
        slots,
    )  # fmt: skip


def _work_left(
    frame_count: int, frames_done: int, render_s: float, chunk_size: int, default_frame_s: float,
    slots: int,
) -> float:  # fmt: skip
    remaining = frame_count - frames_done
    if remaining <= 0:
        return 0.0
    per_frame = render_s / frames_done if frames_done > 0 and render_s > 0 else default_frame_s
    chunk = chunk_size if chunk_size > 1 else 1
    tasks = -(-remaining // chunk)
    waves = -(-tasks // slots) if slots > 1 else tasks
    return waves * (chunk if chunk < remaining else remaining) * per_frame


def rank_job(job: RankInput, show: ShowShare, policy: Policy, now: float, slots: int) -> Rank:
    """The score of one job and its parts.

    Called for every unfinished job on every pass, so written for speed: one unpacking of the
    input, no helper calls on the common path.
    """
    (job_id, _, submitted_at, artist_priority, frame_count, frames_done, render_s, chunk_size,
     own_due, sg_priority, sg_label, sg_due, pinned) = job  # fmt: skip
    target, usage, fair = show
    age_s = now - submitted_at if now > submitted_at else 0.0
    half = policy.age_half_s
    age = 1.0 - half / (age_s + half)
    sg_value = policy.unlinked_priority if sg_priority is None else sg_priority
    sg = 0.0 if not sg_value > 0.0 else 1.0 if sg_value >= 100.0 else sg_value / 100.0
    artist = (0.0 if artist_priority <= 0 else 1.0 if artist_priority >= 100
              else artist_priority / 100.0)  # fmt: skip
    due_at, source = own_due, "job" if own_due is not None else ""
    if sg_due is not None and (due_at is None or sg_due < due_at):
        due_at, source = sg_due, "shotgrid"
    work_s = _work_left(
        frame_count, frames_done, render_s, chunk_size, policy.default_frame_s, slots
    )
    urgency = 0.0
    if due_at is not None:
        slack = (due_at - now) - work_s
        horizon = policy.due_horizon_s
        urgency = 1.0 if slack <= 0 else horizon / (slack + horizon)
    score = (
        policy.shotgrid_weight * sg
        + policy.due_weight * urgency
        + policy.artist_weight * artist
        + policy.age_weight * age
        + policy.fair_share_weight * fair
    )
    tier = 0.0
    if pinned:
        tier = PINNED_TIER
    elif policy.over_share_yields and usage + SHARE_EPSILON < target:
        tier = UNDER_SHARE_TIER - (target - usage)
    # Positional, in Rank's field order (keywords cost a third of the time here).
    return Rank(
        job_id, tier, -score, submitted_at, score, pinned, sg, urgency, artist, age, fair,
        sg_priority, sg_label, due_at, source, work_s, age_s, usage, target, now,
    )  # fmt: skip


def rank_jobs(
    jobs: Iterable[RankInput],
    shares: Mapping[str, ShowShare],
    policy: Policy,
    now: float,
    slots: int,
) -> list[Rank]:
    """Ranks every job; the result is in queue order (best first)."""
    ranks = [rank_job(job, shares.get(job.project, NO_SHARE), policy, now, slots) for job in jobs]
    ranks.sort(key=queue_key)
    return ranks


def queue_key(rank: Rank) -> tuple[float, float, float, int]:
    """The queue order: by tier, higher score first, then earlier submission."""
    return (rank.tier, rank.sort_key, rank.submitted_at, rank.job_id)


# --- in words ----------------------------------------------------------------------------------


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.0f}%"


def describe_parts(rank: Rank, policy: Policy, project: str, *, stale: bool) -> list[RankPart]:
    """The rank's parts with their weights, points and one phrase each."""
    if rank.sg_priority is None:
        sg_detail = f"no ShotGrid priority (counted as {policy.unlinked_priority:.0f})"
    else:
        label = f"{rank.sg_label} " if rank.sg_label else ""
        sg_detail = f"ShotGrid priority {label}({rank.sg_priority:.0f}/100)"
        if stale:
            sg_detail += ", the last known value while ShotGrid is unreachable"
    if rank.due_at is None:
        due_detail = "no due date"
    else:
        left = rank.due_at - rank.ranked_at
        source = " in ShotGrid" if rank.due_source == "shotgrid" else ""
        when = f"due in {duration(left)}" if left > 0 else f"overdue by {duration(left)}"
        due_detail = f"{when}{source} with about {duration(rank.work_s)} of rendering left"
    if rank.target <= 0:
        fair_detail = f"show {project} gets no share now"
    else:
        side = "under" if rank.usage < rank.target else "over" if rank.usage > rank.target else "at"
        fair_detail = (
            f"show {project} {side} its share ({_percent(rank.usage)} of the farm "
            f"for a {_percent(rank.target)} share)"
        )
        if side != "under" and policy.over_share_yields:
            fair_detail += ", so it yields to shows under theirs"
    rows = (
        (RankPartName.SHOTGRID, rank.sg, policy.shotgrid_weight, sg_detail),
        (RankPartName.DUE, rank.due, policy.due_weight, due_detail),
        (RankPartName.ARTIST, rank.artist, policy.artist_weight,
         f"artist priority {rank.artist * 100:.0f}"),
        (RankPartName.AGE, rank.age, policy.age_weight, f"waiting {duration(rank.age_s)}"),
        (RankPartName.FAIR_SHARE, rank.fair, policy.fair_share_weight, fair_detail),
    )  # fmt: skip
    return [
        RankPart(
            name=name,
            value=round(value, 4),
            weight=weight,
            points=round(value * weight, 4),
            detail=detail,
        )
        for name, value, weight, detail in rows
    ]


def explain(
    parts: Sequence[RankPart], position: int, total: int, *, pinned_by: str | None = None
) -> str:
    """One plain sentence: the place in the queue, then what put it there, strongest first."""
    lifting = sorted((p for p in parts if p.points > 0), key=lambda p: -p.points)
    lowering = sorted((p for p in parts if p.points < 0), key=lambda p: p.points)
    phrases = [p.detail for p in lifting if p.weight > 0]
    head = f"Rank {position} of {total}"
    if pinned_by:
        phrases.insert(0, f"pinned to the top by {pinned_by}")
    sentence = f"{head}: {', '.join(phrases) or 'no part weighs in'}"
    if lowering:
        sentence += "; held back as " + " and ".join(p.detail for p in lowering)
    return sentence + "."


def _clamp(value: float, low: float, high: float) -> float:
    if math.isnan(value):
        return low
    return max(low, min(high, value))
