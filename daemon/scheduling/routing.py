"""Which frames of a job may go to the cloud, and why: pure functions, ``now`` is an argument.

A job of placement ``auto`` becomes cloud-eligible only when all of these hold:

- the local farm's predicted finish misses its due date (with a safety margin, below);
- its project may leave the building (not confidential, placement not ``never-cloud``);
- its show's cloud budget has room (``budget.ShowBudget.room``) for the frames it needs;
- its data is staged in object storage (until then the decision asks for staging);
- the cloud shape has what its requirements ask (GPUs, memory, pool; ``shape_misfit``):
  a GPU job never bursts to CPU nodes.

And then only as many frames go as the due date needs: the local farm keeps the most frames it
can finish by the due date, the cloud takes the rest, all of them or none (a part would still
miss the date, and spend money another job could make its date with). ``local`` and
``never-cloud`` jobs never go; ``cloud`` jobs may always send every frame left, still within
budget (as many as it buys), confidentiality and staging.

The local prediction. The farm has ``slots`` render slots and ``queue_ahead_s`` render seconds
(slot-seconds) of work ranked ahead of the job; the job's frames take ``f`` seconds each, its
measured pace (the policy's default before any measure). Keeping ``n`` of its frames local, the
job ends at::

    now + max(f, (queue_ahead + (in_flight / 2 + n) * f) / slots + f / 2)

the farm drains its queue at ``slots`` seconds per second, the last frame ends on average half
a frame after that, no frame takes less than one frame time, and frames running locally count
for half a frame each. To plan, frame times (the job's and the queue's) are taken
``safety_fraction`` slower than measured, and the local part must end ``safety_margin_s``
before the due date. The sentence that explains a decision shows the plain estimate.

``route_queue`` routes a whole queue in rank order: the frames a job sends to the cloud no
longer load the local farm for the jobs below it, and the money a job may spend is no longer
room for the next job of its show. It also *makes room*: when a job that must stay local
(placement, confidentiality) would miss its date, jobs ranked above it that may leave send
enough frames to the cloud to free the local slots it needs, paid by its own show's budget
(``RouteDecision.room_for``), so no show pays for another's date unasked.

Inputs are frozen dataclasses a service fills from rows: ``JobFacts`` per unfinished job,
``FarmFacts`` for the local farm, ``budget.ShowBudget`` per show; ``RoutingPolicy`` holds the
knobs. Output: one ``RouteDecision`` per job: a ``Verdict`` code, the frames and money, and
the ``Grounds`` (a ``Reason`` and its figures) that ``routing_words`` turns into the sentence.
Decisions are never changed in place: making room returns new ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from common.models import Placement, Requirements
from daemon.scheduling.budget import ShowBudget


class Verdict(StrEnum):
    """What routing decided for a job (stable codes for the API and the dashboard)."""

    BURST = "burst"
    """Some of its frames may go to the cloud now."""
    AWAIT_STAGING = "await-staging"
    """It needs the cloud, but its data is not staged yet."""
    ON_TIME = "on-time"
    """The local farm makes the due date."""
    NO_DUE_DATE = "no-due-date"
    """Nothing to hurry for: ``auto`` without a due date stays local."""
    LOCAL_ONLY = "local-only"
    """Placement ``local`` or ``never-cloud``."""
    CONFIDENTIAL = "confidential"
    """Its project may not leave the building."""
    NO_BUDGET = "no-budget"
    """It needs the cloud, but its show's budget has no room."""
    NOTHING_LEFT = "nothing-left"
    """Every frame is done or running."""
    SHAPE_MISFIT = "shape-misfit"
    """The cloud shape lacks what the job requires (GPUs, memory, pool): it stays local."""


class Reason(StrEnum):
    """Why routing placed a job's own frames as it did: finer than ``Verdict``, one per sentence
    that ``routing_words`` says from the decision's figures."""

    NOTHING_LEFT = "nothing-left"
    """Every frame is done or running."""
    PLACEMENT_LOCAL = "placement-local"
    """Placement ``local``: only the local farm renders it."""
    PLACEMENT_NEVER_CLOUD = "placement-never-cloud"
    """Placement ``never-cloud``: its frames never leave the building."""
    CONFIDENTIAL = "confidential"
    """Its project may not leave the building."""
    SHAPE_MISFIT = "shape-misfit"
    """The cloud shape lacks what its requirements ask (``Grounds.misfit`` says what)."""
    NO_DUE_DATE = "no-due-date"
    """``auto`` without a due date: the local farm takes it."""
    ON_TIME = "on-time"
    """The local farm makes the due date."""
    NO_CLOUD_BUDGET = "no-cloud-budget"
    """It needs the cloud, and its show has no cloud budget (none, or zero)."""
    BUDGET_SPENT = "budget-spent"
    """It needs the cloud, and its show's budget is spent or promised."""
    BUDGET_SHORT = "budget-short"
    """It needs the cloud, and what its show has left buys none of the frames, or (an ``auto``
    job, all or nothing) fewer than its date needs."""
    AWAIT_STAGING = "await-staging"
    """It may send frames once its data is staged."""
    BURST = "burst"
    """It may send frames now: all it needs, or (``Grounds.affordable`` below
    ``RouteDecision.needed_frames``) as many as its show's money buys."""


class RoomOutcome(StrEnum):
    """What asking the jobs ranked ahead for room came to, for a job that must stay local."""

    MADE = "made"
    """Jobs ahead send enough frames to the cloud for it to make its date; its show pays."""
    BLOCKED = "blocked"
    """The jobs ahead cannot send enough (placement, staging, their own verdicts)."""
    UNAFFORDABLE = "unaffordable"
    """Its show's cloud budget cannot pay for the room."""


@dataclass(frozen=True)
class RoutingPolicy:
    """The knobs of routing (from ``Settings``)."""

    default_frame_s: float = 60.0
    """Seconds per frame of a job with no frame measured yet."""
    safety_fraction: float = 0.15
    """Plan with frames this much slower than measured (0.15: 15 %)."""
    safety_margin_s: float = 900.0
    """The local part must end this long before the due date."""
    cloud_frame_factor: float = 1.0
    """Seconds per frame on a cloud node over seconds per frame locally."""
    cloud_overhead: float = 0.15
    """Billed cloud seconds beyond render seconds (boot, idle, preempted work), as a fraction."""
    partial_bursts: bool = False
    """Let an ``auto`` job send the frames its show's budget buys when they are fewer than its
    date needs (``cloud`` jobs always may)."""
    stage_ahead_s: float = 3600.0
    """Stage an ``auto`` job's data already when its local finish is this close to the target."""
    make_room: bool = True
    """When a job that must stay local (placement, confidentiality) would miss its date, send
    frames of jobs ranked ahead of it to the cloud to free local slots, paid by its show."""


@dataclass(frozen=True)
class CloudNeeds:
    """What a job requires of a node that the cloud shape decides (its ``Requirements``)."""

    gpus: int = 0
    memory_mb: int = 0
    pool: str = ""
    """The pool its nodes must be in; empty: any."""

    @classmethod
    def of(cls, requirements: Requirements) -> CloudNeeds:
        return cls(requirements.gpus, requirements.min_memory_mb, requirements.pool or "")


@dataclass(frozen=True)
class CloudShape:
    """What every node the cloud backend launches has (its configured shape)."""

    name: str
    gpus: int
    memory_mb: int
    """0: not known (a fixed shape's): not checked."""
    pool: str
    """The pool cloud agents join."""


@dataclass(frozen=True)
class Misfit:
    """The first thing a job requires that the cloud shape lacks."""

    need: str
    """``gpus``, ``memory`` or ``pool``."""
    wanted: int | str
    has: int | str
    shape: str


def shape_misfit(needs: CloudNeeds, shape: CloudShape) -> Misfit | None:
    """What of ``needs`` the shape's nodes lack (GPUs first, then memory, then pool); None
    when they can take the job."""
    if needs.gpus > shape.gpus:
        return Misfit("gpus", needs.gpus, shape.gpus, shape.name)
    if shape.memory_mb and needs.memory_mb > shape.memory_mb:
        return Misfit("memory", needs.memory_mb, shape.memory_mb, shape.name)
    if needs.pool and needs.pool != shape.pool:
        return Misfit("pool", needs.pool, shape.pool, shape.name)
    return None


@dataclass(frozen=True)
class JobFacts:
    """What routing needs to know about one unfinished job (one row of a daemon query)."""

    job_id: int
    project: str
    placement: Placement
    frame_count: int
    frames_done: int
    frames_in_flight: int
    """Frames of leased or running tasks, anywhere."""
    frame_s: float | None
    """Measured render seconds per frame; None before any frame is measured."""
    due_at: float | None
    confidential: bool
    """Its project may not leave the building (by policy, whatever the placement)."""
    staged: bool
    """Its dependencies are in object storage, where cloud nodes fetch them."""
    rank_position: int
    """Place in the queue, 1 first."""
    cloud_in_flight: int = 0
    """Of ``frames_in_flight``, those running on cloud nodes."""
    needs: CloudNeeds = CloudNeeds()
    """What its requirements ask of a node that the cloud shape decides."""

    @property
    def pending(self) -> int:
        """Frames neither done nor running: the ones routing may place."""
        return max(0, self.frame_count - self.frames_done - self.frames_in_flight)

    @property
    def local_in_flight(self) -> int:
        return max(0, self.frames_in_flight - self.cloud_in_flight)


@dataclass(frozen=True)
class FarmFacts:
    """The local farm at the time of a pass."""

    slots: int
    """Render slots of the local agents online."""
    queue_ahead_s: float = 0.0
    """Render seconds of local work ranked ahead of the job (``route_job``), or ahead of every
    job given (``route_queue``, which adds the jobs' own work as it goes down the queue)."""


@dataclass(frozen=True)
class RoomFor:
    """Frames a job sends to the cloud to free local slots for a job that must stay local."""

    job_id: int
    """The job the room is made for."""
    payer: str
    """Its show, whose cloud budget pays for these frames."""
    frames: int


@dataclass(frozen=True)
class Grounds:
    """What a decision was made on: its reason and the figures its sentence gives."""

    reason: Reason
    project: str
    placement: Placement
    frame_count: int
    due_at: float | None
    affordable: int = 0
    """Of the frames the job needs in the cloud, those its show's money buys (sent now, or
    once its data is staged)."""
    budget: ShowBudget | None = None
    """The show's money as routing saw it (``committed`` includes what the jobs of the show
    ranked above it hold back); None when the show has no cloud budget."""
    misfit: Misfit | None = None
    """What the cloud shape lacks (reason ``SHAPE_MISFIT``)."""


@dataclass(frozen=True)
class RoomAsked:
    """Room asked of the jobs ranked ahead for a job that must stay local and would be late."""

    outcome: RoomOutcome
    frames: int
    """Frames the jobs ahead send to the cloud for it (those found, when not ``MADE``)."""
    jobs: int
    """How many jobs ahead send them."""
    cost: float
    """What the room costs its show (or would), overhead included."""


@dataclass(frozen=True)
class RouteDecision:
    """Where a job's pending frames may run, with the figures that say why (``routing_words``
    turns them into the sentence)."""

    job_id: int
    verdict: Verdict
    cloud_frames: int
    """Pending frames cloud nodes may take now (0 unless ``verdict`` is ``BURST``)."""
    needed_frames: int
    """Pending frames the cloud must take to make the due date, before budget and staging."""
    local_finish_at: float | None
    """The local farm's predicted finish of every pending frame; None when not predicted."""
    stage: bool
    """Start staging the job's data now (it needs, or may soon need, the cloud)."""
    estimated_cost: float
    """What the frames it sends (or will send once staged) should cost, overhead included;
    ``route_queue`` holds it back from the room of the show's next jobs."""
    grounds: Grounds
    """Why ``route_job`` placed its own frames so, and the figures of the sentence."""
    room_for: tuple[RoomFor, ...] = ()
    """Of ``cloud_frames``, those sent to make room for local-only jobs (their shows pay)."""
    room: RoomAsked | None = None
    """For a local-only job that would miss its date: the room asked of the jobs ahead."""

    @property
    def cloud_eligible(self) -> bool:
        return self.cloud_frames > 0

    @property
    def own_frames(self) -> int:
        """Of ``cloud_frames``, those the job's own show pays for."""
        return self.cloud_frames - sum(room.frames for room in self.room_for)


def frame_seconds(job: JobFacts, policy: RoutingPolicy) -> float:
    """The job's measured seconds per frame, or the policy's default."""
    if job.frame_s is not None and job.frame_s > 0:
        return job.frame_s
    return policy.default_frame_s


def local_finish(
    now: float, slots: int, queue_s: float, frames: int, frame_s: float, in_flight: int = 0
) -> float:
    """When the local farm ends ``frames`` of a job (see the module's formula)."""
    if frames <= 0 and in_flight <= 0:
        return now
    drain = (queue_s + (in_flight / 2 + frames) * frame_s) / max(1, slots) + frame_s / 2
    return now + max(frame_s if frames > 0 else frame_s / 2, drain)


def cloud_frames_needed(
    job: JobFacts, farm: FarmFacts, policy: RoutingPolicy, now: float
) -> tuple[int, float]:
    """Frames the cloud must take so the local rest ends by the due date, less the margin.

    Returns:
        The frame count, 0..pending (0 for a job without a due date), and the plain predicted
        local finish of every pending frame (measured frame times, no margin).
    """
    pending = job.pending
    frame_s = frame_seconds(job, policy)
    plain = local_finish(now, farm.slots, farm.queue_ahead_s, pending, frame_s, job.local_in_flight)
    if job.due_at is None or pending == 0:
        return 0, plain
    slow = 1.0 + max(0.0, policy.safety_fraction)
    f = frame_s * slow
    queue = farm.queue_ahead_s * slow
    slots = max(1, farm.slots)
    target = job.due_at - policy.safety_margin_s

    def ends_in_time(n: int) -> bool:
        return local_finish(now, slots, queue, n, f, job.local_in_flight) <= target

    left = target - now
    if left < f:
        keep = 0
    else:
        room = (left - f / 2) * slots - queue - job.local_in_flight / 2 * f
        keep = min(pending, max(0, math.floor(room / f)))
    # The closed form can be one frame off under rounding: settle it on the predicate.
    while keep > 0 and not ends_in_time(keep):
        keep -= 1
    while keep < pending and ends_in_time(keep + 1):
        keep += 1
    return pending - keep, plain


def route_job(
    job: JobFacts,
    farm: FarmFacts,
    budget: ShowBudget | None,
    policy: RoutingPolicy,
    now: float,
    *,
    shape: CloudShape | None = None,
) -> RouteDecision:
    """Routes one job.

    Args:
        job: the job's facts.
        farm: the local farm, with the work ranked ahead of this job.
        budget: the show's cloud money; None when the show has no cloud budget.
        policy: the knobs.
        now: the time of the pass (epoch seconds).
        shape: what the cloud's nodes have; a job that needs more stays local. None: not
            checked.
    """

    def decide(
        verdict: Verdict, reason: Reason, *, cloud: int = 0, needed: int = 0,
        finish: float | None = None, stage: bool = False, cost: float = 0.0, affordable: int = 0,
        misfit: Misfit | None = None,
    ) -> RouteDecision:  # fmt: skip
        grounds = Grounds(
            reason,
            job.project,
            job.placement,
            job.frame_count,
            job.due_at,
            affordable,
            budget,
            misfit,
        )
        return RouteDecision(job.job_id, verdict, cloud, needed, finish, stage, cost, grounds)

    if job.pending == 0:
        return decide(Verdict.NOTHING_LEFT, Reason.NOTHING_LEFT)
    if job.placement is Placement.LOCAL:
        return decide(Verdict.LOCAL_ONLY, Reason.PLACEMENT_LOCAL)
    if job.placement is Placement.NEVER_CLOUD:
        return decide(Verdict.LOCAL_ONLY, Reason.PLACEMENT_NEVER_CLOUD)
    if job.confidential:
        return decide(Verdict.CONFIDENTIAL, Reason.CONFIDENTIAL)
    misfit = None if shape is None else shape_misfit(job.needs, shape)
    if misfit is not None:
        return decide(Verdict.SHAPE_MISFIT, Reason.SHAPE_MISFIT, misfit=misfit)

    needed, finish = cloud_frames_needed(job, farm, policy, now)
    if job.placement is Placement.CLOUD:
        needed = job.pending
    elif job.due_at is None:
        return decide(Verdict.NO_DUE_DATE, Reason.NO_DUE_DATE, finish=finish)
    elif needed == 0 and finish - job.due_at <= 0:
        early = _at_risk(job, farm, policy, now)
        return decide(Verdict.ON_TIME, Reason.ON_TIME, finish=finish, stage=early)

    f_cloud = frame_seconds(job, policy) * policy.cloud_frame_factor
    per_frame = (budget.price_per_s if budget else 0.0) * f_cloud * (1 + policy.cloud_overhead)
    if budget is None or budget.budget <= 0:
        return decide(Verdict.NO_BUDGET, Reason.NO_CLOUD_BUDGET, needed=needed, finish=finish)
    affordable = needed
    if per_frame > 0:
        bought = max(0.0, budget.room) / per_frame
        affordable = needed if bought >= needed else math.floor(bought)
    # An auto job sends all the frames its date needs or none: a part would still miss the
    # date and spend money that could make another job's.
    whole = job.placement is Placement.AUTO and not policy.partial_bursts
    if affordable == 0 or (whole and affordable < needed):
        short = Reason.BUDGET_SPENT if budget.room <= 0 else Reason.BUDGET_SHORT
        return decide(Verdict.NO_BUDGET, short, needed=needed, finish=finish)
    cost = affordable * per_frame
    if not job.staged:
        return decide(
            Verdict.AWAIT_STAGING, Reason.AWAIT_STAGING, needed=needed, finish=finish,
            stage=True, cost=cost, affordable=affordable,
        )  # fmt: skip
    return decide(
        Verdict.BURST, Reason.BURST, cloud=affordable, needed=needed, finish=finish, cost=cost,
        affordable=affordable,
    )  # fmt: skip


def route_queue(
    jobs: Iterable[JobFacts],
    farm: FarmFacts,
    budgets: Mapping[str, ShowBudget],
    policy: RoutingPolicy,
    now: float,
    *,
    shape: CloudShape | None = None,
) -> list[RouteDecision]:
    """Routes every job in rank order; the result is in that order (``shape``: as
    ``route_job``).

    Each job sees as work ahead ``farm.queue_ahead_s`` plus what the jobs ranked above it keep
    on the local farm, and as its show's room what the jobs of its show above it left.
    """
    ordered = sorted(jobs, key=lambda j: (j.rank_position, j.job_id))
    queue_s = farm.queue_ahead_s
    owed: dict[str, float] = {}
    decisions: list[RouteDecision] = []
    for job in ordered:
        budget = budgets.get(job.project)
        if budget is not None and owed.get(job.project):
            budget = ShowBudget(
                budget.project, budget.budget, budget.spent,
                budget.committed + owed[job.project], budget.price_per_s,
            )  # fmt: skip
        here = FarmFacts(farm.slots, queue_s)
        decision = route_job(job, here, budget, policy, now, shape=shape)
        if policy.make_room and decision.verdict in _STAYS_LOCAL and job.due_at is not None:
            room = _make_room(job, decision, ordered, decisions, here, budget, policy, now)
            decision, decisions = room.decision, list(room.ahead)
            queue_s -= room.freed
        decisions.append(decision)
        owed[job.project] = owed.get(job.project, 0.0) + decision.estimated_cost
        local_frames = job.pending - decision.cloud_frames + job.local_in_flight / 2
        queue_s += local_frames * frame_seconds(job, policy)
    return decisions


_STAYS_LOCAL = (Verdict.LOCAL_ONLY, Verdict.CONFIDENTIAL, Verdict.SHAPE_MISFIT)


@dataclass(frozen=True)
class _Room:
    """What ``_make_room`` came to: the new decisions, and the local render seconds freed."""

    decision: RouteDecision
    """The decision of the job that must stay local."""
    ahead: tuple[RouteDecision, ...]
    """The decisions of the jobs ranked above it, with the frames they send for it."""
    freed: float


def _make_room(
    job: JobFacts,
    decision: RouteDecision,
    ordered: Sequence[JobFacts],
    ahead: Sequence[RouteDecision],
    farm: FarmFacts,
    budget: ShowBudget | None,
    policy: RoutingPolicy,
    now: float,
) -> _Room:
    """Frees local slots for ``job``, which must stay local, by sending frames of the jobs
    ranked ahead of it (``ahead``, decided already, in the order of ``ordered``) to the cloud.

    The jobs nearest above it give first; all the room its date needs or none; its show pays.
    Jobs ahead whose data is not staged give nothing but are asked to stage it. Returns new
    decisions (the arguments are left as they are) and the render seconds freed locally.
    """
    needed, finish = cloud_frames_needed(job, farm, policy, now)
    if needed == 0:
        return _Room(decision, tuple(ahead), 0.0)
    deficit = needed * frame_seconds(job, policy)
    given = list(ahead)
    moves: list[tuple[int, int]] = []
    freed = 0.0
    for index in range(len(given) - 1, -1, -1):
        if freed >= deficit:
            break
        facts, there = ordered[index], given[index]
        movable = facts.pending - there.cloud_frames
        if there.verdict not in (Verdict.BURST, Verdict.ON_TIME) or movable <= 0:
            continue
        if not facts.staged:
            given[index] = replace(there, stage=True)
            continue
        f = frame_seconds(facts, policy)
        frames = min(movable, math.ceil((deficit - freed) / f))
        moves.append((index, frames))
        freed += frames * f
    price = budget.price_per_s if budget is not None else 0.0
    cost = freed * policy.cloud_frame_factor * price * (1 + policy.cloud_overhead)
    sent = sum(frames for _, frames in moves)
    after = FarmFacts(farm.slots, farm.queue_ahead_s - freed)

    def asked(outcome: RoomOutcome, charged: float | None = None) -> RouteDecision:
        return replace(
            decision, needed_frames=needed, local_finish_at=finish,
            estimated_cost=decision.estimated_cost if charged is None else charged,
            room=RoomAsked(outcome, sent, len(moves), cost),
        )  # fmt: skip

    if freed < deficit or cloud_frames_needed(job, after, policy, now)[0] > 0:
        return _Room(asked(RoomOutcome.BLOCKED), tuple(given), 0.0)
    if budget is None or budget.budget <= 0 or cost > budget.room:
        return _Room(asked(RoomOutcome.UNAFFORDABLE), tuple(given), 0.0)
    for index, frames in moves:
        there = given[index]
        given[index] = replace(
            there,
            verdict=Verdict.BURST,
            cloud_frames=there.cloud_frames + frames,
            room_for=(*there.room_for, RoomFor(job.job_id, job.project, frames)),
        )
    return _Room(asked(RoomOutcome.MADE, cost), tuple(given), freed)


def _at_risk(job: JobFacts, farm: FarmFacts, policy: RoutingPolicy, now: float) -> bool:
    """Whether an on-time ``auto`` job is close enough to its date to stage its data early."""
    if job.staged or job.due_at is None or policy.stage_ahead_s <= 0:
        return False
    later = replace(job, due_at=job.due_at - policy.stage_ahead_s)
    return cloud_frames_needed(later, farm, policy, now)[0] > 0
