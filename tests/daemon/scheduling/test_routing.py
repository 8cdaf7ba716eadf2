"""Routing: which frames of a job may go to the cloud, how many, and the sentence that says why."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.models import Placement
from daemon.scheduling.budget import ShowBudget
from daemon.scheduling.routing import (
    CloudNeeds,
    CloudShape,
    FarmFacts,
    JobFacts,
    Misfit,
    RoomOutcome,
    RouteDecision,
    RoutingPolicy,
    Verdict,
    cloud_frames_needed,
    local_finish,
    route_job,
    route_queue,
    shape_misfit,
)
from daemon.scheduling.routing_words import sentence

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
#: No safety factor, no margin: the arithmetic of the tests stays in plain sight.
PLAIN = RoutingPolicy(safety_fraction=0.0, safety_margin_s=0.0, cloud_overhead=0.0)
FARM = FarmFacts(slots=10)
RICH = ShowBudget("alpha", budget=10_000.0, spent=0.0, committed=0.0, price_per_s=0.001)


def job(**changes: object) -> JobFacts:
    """100 frames of 30 min (5 h on the 10-slot farm), due in 10 h, staged, auto."""
    base = JobFacts(
        job_id=1, project="alpha", placement=Placement.AUTO, frame_count=100, frames_done=0,
        frames_in_flight=0, frame_s=1800.0, due_at=NOW + 10 * HOUR, confidential=False,
        staged=True, rank_position=1,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def said(decision: RouteDecision) -> str:
    """The sentence of a decision made at ``NOW``."""
    return sentence(decision, NOW)


def route(
    j: JobFacts,
    farm: FarmFacts = FARM,
    budget: ShowBudget | None = RICH,
    policy: RoutingPolicy = PLAIN,
) -> RouteDecision:
    return route_job(j, farm, budget, policy, NOW)


# --- eligibility ---------------------------------------------------------------------------------

CASES = [
    # (what, job, farm, budget, verdict, cloud frames)
    ("due in 10 h with 2 h of local work stays local",
     job(frame_s=720.0), FARM, RICH, Verdict.ON_TIME, 0),
    ("due in 1 h with 5 h of work sends what the date needs",
     job(due_at=NOW + HOUR), FARM, RICH, Verdict.BURST, 85),
    ("the queue ahead makes an on-time job late",
     job(frame_s=720.0), FarmFacts(10, 9 * HOUR * 10), RICH, Verdict.BURST, 55),
    ("a confidential project never leaves, however late",
     job(due_at=NOW + HOUR, confidential=True), FARM, RICH, Verdict.CONFIDENTIAL, 0),
    ("confidential beats placement cloud",
     job(placement=Placement.CLOUD, confidential=True), FARM, RICH, Verdict.CONFIDENTIAL, 0),
    ("placement local never leaves",
     job(placement=Placement.LOCAL, due_at=NOW + HOUR), FARM, RICH, Verdict.LOCAL_ONLY, 0),
    ("placement never-cloud never leaves",
     job(placement=Placement.NEVER_CLOUD, due_at=NOW + HOUR), FARM, RICH, Verdict.LOCAL_ONLY, 0),
    ("placement cloud may send every frame left, on time or not",
     job(placement=Placement.CLOUD, frames_done=30, frames_in_flight=10), FARM, RICH,
     Verdict.BURST, 60),
    ("placement cloud without a due date may too",
     job(placement=Placement.CLOUD, due_at=None), FARM, RICH, Verdict.BURST, 100),
    ("auto without a due date stays local",
     job(due_at=None), FARM, RICH, Verdict.NO_DUE_DATE, 0),
    ("a spent budget stops new cloud work",
     job(due_at=NOW + HOUR), FARM, replace(RICH, spent=6_000.0, committed=4_000.0),
     Verdict.NO_BUDGET, 0),
    ("no budget at all",
     job(due_at=NOW + HOUR), FARM, None, Verdict.NO_BUDGET, 0),
    ("a budget of zero",
     job(due_at=NOW + HOUR), FARM, replace(RICH, budget=0.0), Verdict.NO_BUDGET, 0),
    # 85 frames x 1800 s x $0.001 = $153: $100 left buys only part, and a part misses anyway.
    ("an auto job sends all it needs or nothing",
     job(due_at=NOW + HOUR), FARM, replace(RICH, budget=100.0), Verdict.NO_BUDGET, 0),
    ("a cloud job sends what the budget buys",
     job(placement=Placement.CLOUD), FARM, replace(RICH, budget=100.0), Verdict.BURST, 55),
    ("data not staged: it waits, and asks for staging",
     job(due_at=NOW + HOUR, staged=False), FARM, RICH, Verdict.AWAIT_STAGING, 0),
    ("every frame done or running",
     job(frames_done=90, frames_in_flight=10, due_at=NOW + HOUR), FARM, RICH,
     Verdict.NOTHING_LEFT, 0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("job_facts", "farm", "budget", "verdict", "frames"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_eligibility(
    job_facts: JobFacts, farm: FarmFacts, budget: ShowBudget | None, verdict: Verdict, frames: int
) -> None:
    decision = route(job_facts, farm, budget)
    assert decision.verdict is verdict
    assert decision.cloud_frames == frames
    assert decision.cloud_eligible is (frames > 0)
    assert said(decision)


def test_the_frame_count_keeps_the_most_frames_local_that_make_the_date() -> None:
    # 1 h left, 10 slots, 30-min frames: 15 frames end at 9:00 + 15*1800/10 + 900 s = 10:00.
    decision = route(job(due_at=NOW + HOUR))
    assert decision.needed_frames == 85
    assert local_finish(NOW, 10, 0.0, 15, 1800.0) == NOW + HOUR
    assert local_finish(NOW, 10, 0.0, 16, 1800.0) > NOW + HOUR


def test_the_safety_margin_sends_more_frames() -> None:
    # Frames planned 15 % slower (2070 s) and ending 15 min early: 8 frames stay, 92 go.
    decision = route(job(due_at=NOW + HOUR), policy=RoutingPolicy())
    assert decision.cloud_frames == 92


def test_a_job_within_the_margin_of_its_date_bursts() -> None:
    # 2 h of work due in 2 h 10 min: on time by the plain estimate, not with the margin.
    decision = route(job(frame_s=720.0, due_at=NOW + 2 * HOUR + 600), policy=RoutingPolicy())
    assert decision.verdict is Verdict.BURST
    assert "only 4 min before the due date" in said(decision)


def test_an_unmeasured_job_runs_at_the_default_pace() -> None:
    slow = route(job(frame_s=None, due_at=NOW + HOUR), policy=replace(PLAIN, default_frame_s=1800))
    fast = route(job(frame_s=None, due_at=NOW + HOUR), policy=replace(PLAIN, default_frame_s=60))
    assert slow.cloud_frames == 85
    assert fast.verdict is Verdict.ON_TIME


def test_frames_running_locally_load_the_farm() -> None:
    idle = route(job(due_at=NOW + HOUR, frames_done=0))
    busy = route(job(due_at=NOW + HOUR, frame_count=110, frames_in_flight=10))
    cloudy = route(job(due_at=NOW + HOUR, frame_count=110, frames_in_flight=10, cloud_in_flight=10))
    assert busy.cloud_frames > idle.cloud_frames
    assert cloudy.cloud_frames == idle.cloud_frames


def test_the_cost_is_the_frames_at_the_shows_price() -> None:
    decision = route(job(due_at=NOW + HOUR), policy=replace(PLAIN, cloud_overhead=0.15))
    assert decision.estimated_cost == pytest.approx(85 * 1800 * 0.001 * 1.15)


def test_an_at_risk_job_is_staged_before_it_needs_the_cloud() -> None:
    near = route(job(frame_s=720.0, due_at=NOW + 2.5 * HOUR, staged=False))
    far = route(job(frame_s=720.0, due_at=NOW + 10 * HOUR, staged=False))
    assert (near.verdict, near.stage) == (Verdict.ON_TIME, True)
    assert (far.verdict, far.stage) == (Verdict.ON_TIME, False)


# --- sentences -----------------------------------------------------------------------------------


def test_the_sentence_of_a_late_job() -> None:
    # 100 x 1800 s / 10 slots + half a frame = 5 h 15 min: 14:15, for a date at 10:00.
    decision = route(job(due_at=NOW + HOUR))
    assert said(decision) == (
        "local farm finishes at 14:15, 4 h 15 min after the due date; "
        "85 of 100 frames may go to the cloud"
    )
    assert decision.local_finish_at == NOW + 5.25 * HOUR


def test_the_sentence_of_an_on_time_job() -> None:
    decision = route(job(frame_s=720.0))
    assert said(decision) == (
        "local farm finishes at 11:06, 7 h 54 min before the due date; it stays local"
    )


def test_the_sentence_names_the_day_when_it_is_not_today() -> None:
    decision = route(job(frame_s=720.0), FarmFacts(10, 30 * HOUR * 10))
    assert said(decision).startswith("local farm finishes at Wed 17:06, 22 h 6 min after")


@pytest.mark.parametrize(
    ("budget", "phrase"),
    [
        (replace(RICH, spent=9_000.0, committed=1_500.0), "cloud budget is spent ($10,500 of"),
        (replace(RICH, budget=100.0), "cloud budget has $100 left, not enough for them"),
        (None, "has no cloud budget"),
    ],
)
def test_the_sentence_says_what_the_budget_stops(budget: ShowBudget | None, phrase: str) -> None:
    decision = route(job(due_at=NOW + HOUR), budget=budget)
    assert "85 of 100 frames would go to the cloud, but show alpha" in said(decision)
    assert phrase in said(decision)


def test_the_sentence_of_a_job_waiting_for_its_data() -> None:
    decision = route(job(due_at=NOW + HOUR, staged=False))
    assert said(decision).endswith("85 of 100 frames will go to the cloud once its data is staged")
    assert decision.stage


# --- the queue -----------------------------------------------------------------------------------


def test_frames_sent_by_a_job_lighten_the_queue_below_it() -> None:
    first = job(job_id=1, due_at=NOW + HOUR)
    second = job(job_id=2, rank_position=2, frame_s=720.0, due_at=NOW + 7 * HOUR)
    queue = route_queue([second, first], FARM, {"alpha": RICH}, PLAIN, NOW)
    assert [d.job_id for d in queue] == [1, 2]
    assert queue[0].cloud_frames == 85
    # Ahead of it stay 15 frames (2.5 slot-hours), not 100: it makes its date.
    assert queue[1].verdict is Verdict.ON_TIME
    alone_behind_all = route(second, FarmFacts(10, 100 * 1800.0))
    assert alone_behind_all.verdict is Verdict.BURST


def test_money_one_job_spends_is_no_longer_room_for_the_next() -> None:
    budget = replace(RICH, budget=200.0)  # buys one job's 85 frames ($153), not two
    jobs = [job(job_id=1, due_at=NOW + HOUR), job(job_id=2, rank_position=2, due_at=NOW + HOUR)]
    first, second = route_queue(jobs, FARM, {"alpha": budget}, PLAIN, NOW)
    assert first.verdict is Verdict.BURST
    assert second.verdict is Verdict.NO_BUDGET


#: Two hours of work due in three: on time alone, late behind ``AHEAD``.
AHEAD = job(job_id=1, frame_s=720.0, due_at=NOW + 3 * HOUR)
SECRET = replace(AHEAD, job_id=2, project="vault", confidential=True, rank_position=2)


def test_room_is_made_for_a_confidential_job_and_its_show_pays() -> None:
    ahead, secret = AHEAD, SECRET
    vault = replace(RICH, project="vault")
    first, second = route_queue([ahead, secret], FARM, {"alpha": RICH, "vault": vault}, PLAIN, NOW)
    assert first.verdict is Verdict.BURST
    assert first.own_frames == 0
    assert [(r.job_id, r.payer) for r in first.room_for] == [(2, "vault")]
    assert first.cloud_frames == first.room_for[0].frames > 0
    assert "to make room for job 2, paid by show vault" in said(first)
    assert second.verdict is Verdict.CONFIDENTIAL
    assert second.cloud_frames == 0
    assert second.estimated_cost == pytest.approx(first.cloud_frames * 720.0 * 0.001)
    # With the frames gone, the confidential job makes its date on the local farm.
    left = (ahead.pending - first.cloud_frames) * 720.0
    assert cloud_frames_needed(secret, FarmFacts(10, left), PLAIN, NOW)[0] == 0


@pytest.mark.parametrize(
    ("budgets", "policy", "phrase"),
    [
        ({"alpha": RICH}, PLAIN, "show vault has no budget"),
        ({"alpha": RICH, "vault": replace(RICH, project="vault", budget=1.0)}, PLAIN,
         "show vault has $1.00"),
        ({"alpha": RICH, "vault": replace(RICH, project="vault")},
         replace(PLAIN, make_room=False), None),
    ],
)  # fmt: skip
def test_no_room_without_the_money_or_the_knob(
    budgets: dict[str, ShowBudget], policy: RoutingPolicy, phrase: str | None
) -> None:
    first, second = route_queue([AHEAD, SECRET], FARM, budgets, policy, NOW)
    assert first.verdict is Verdict.ON_TIME
    assert first.cloud_frames == 0
    assert second.estimated_cost == 0
    if phrase:
        assert phrase in said(second)


def test_room_is_not_made_from_jobs_whose_data_is_not_staged() -> None:
    budgets = {"alpha": RICH, "vault": replace(RICH, project="vault")}
    first, second = route_queue([replace(AHEAD, staged=False), SECRET], FARM, budgets, PLAIN, NOW)
    assert (first.cloud_frames, first.stage) == (0, True)
    assert "cannot make room" in said(second)


# --- properties ----------------------------------------------------------------------------------


@st.composite
def jobs(draw: st.DrawFn, job_id: int = 1) -> JobFacts:
    frame_count = draw(st.integers(1, 5000))
    done = draw(st.integers(0, frame_count))
    in_flight = draw(st.integers(0, frame_count - done))
    return JobFacts(
        job_id=job_id,
        project=draw(st.sampled_from(["alpha", "beta"])),
        placement=draw(st.sampled_from(list(Placement))),
        frame_count=frame_count,
        frames_done=done,
        frames_in_flight=in_flight,
        frame_s=draw(st.none() | st.floats(1.0, 20_000.0)),
        due_at=draw(st.none() | st.floats(NOW - 5 * HOUR, NOW + 72 * HOUR)),
        confidential=draw(st.booleans()),
        staged=draw(st.booleans()),
        rank_position=job_id,
        cloud_in_flight=draw(st.integers(0, in_flight)),
    )


farms = st.builds(FarmFacts, slots=st.integers(1, 500), queue_ahead_s=st.floats(0.0, 1e7))
budgets = st.none() | st.builds(
    ShowBudget,
    project=st.just("alpha"),
    budget=st.floats(0.0, 1e4),
    spent=st.floats(0.0, 1e4),
    committed=st.floats(0.0, 1e3),
    price_per_s=st.floats(0.0, 0.01),
)
policies = st.builds(
    RoutingPolicy,
    default_frame_s=st.floats(1.0, 3600.0),
    safety_fraction=st.floats(0.0, 1.0),
    safety_margin_s=st.floats(0.0, 7200.0),
)


@settings(max_examples=300, deadline=None)
@given(j=jobs(), farm=farms, budget=budgets, policy=policies)
def test_cloud_frames_are_never_negative_nor_more_than_the_frames_left(
    j: JobFacts, farm: FarmFacts, budget: ShowBudget | None, policy: RoutingPolicy
) -> None:
    decision = route_job(j, farm, budget, policy, NOW)
    assert 0 <= decision.cloud_frames <= j.pending
    assert 0 <= decision.needed_frames <= j.pending
    assert decision.estimated_cost >= 0
    if decision.cloud_frames:
        assert decision.verdict is Verdict.BURST
        assert j.staged and not j.confidential
        assert j.placement in (Placement.AUTO, Placement.CLOUD)
        assert budget is not None and budget.budget > 0


@settings(max_examples=300, deadline=None)
@given(j=jobs(), farm=farms, policy=policies)
def test_the_needed_frames_are_the_fewest_that_make_the_date(
    j: JobFacts, farm: FarmFacts, policy: RoutingPolicy
) -> None:
    needed, _ = cloud_frames_needed(j, farm, policy, NOW)
    if j.due_at is None:
        assert needed == 0
        return
    slow = 1 + policy.safety_fraction
    f = (j.frame_s or policy.default_frame_s) * slow
    target = j.due_at - policy.safety_margin_s

    def ends(keep: int) -> float:
        return local_finish(NOW, farm.slots, farm.queue_ahead_s * slow, keep, f, j.local_in_flight)

    keep = j.pending - needed
    if keep > 0:
        assert ends(keep) <= target
    if needed > 0:
        assert ends(keep + 1) > target


@settings(max_examples=200, deadline=None)
@given(
    j=jobs(), farm=farms, policy=policies, later=st.floats(0.0, 48 * HOUR), more=st.floats(0, 1e6)
)
def test_a_later_date_or_a_shorter_queue_never_needs_more_cloud(
    j: JobFacts, farm: FarmFacts, policy: RoutingPolicy, later: float, more: float
) -> None:
    needed, _ = cloud_frames_needed(j, farm, policy, NOW)
    if j.due_at is not None:
        relaxed = replace(j, due_at=j.due_at + later)
        assert cloud_frames_needed(relaxed, farm, policy, NOW)[0] <= needed
    busier = replace(farm, queue_ahead_s=farm.queue_ahead_s + more)
    assert cloud_frames_needed(j, busier, policy, NOW)[0] >= needed


@settings(max_examples=150, deadline=None)
@given(
    queue=st.lists(jobs(), min_size=1, max_size=12),
    farm=farms,
    policy=policies,
    alpha=budgets,
    beta=budgets,
)
def test_a_routed_queue_keeps_every_promise(
    queue: list[JobFacts],
    farm: FarmFacts,
    policy: RoutingPolicy,
    alpha: ShowBudget | None,
    beta: ShowBudget | None,
) -> None:
    queue = [replace(j, job_id=i, rank_position=len(queue) - i) for i, j in enumerate(queue)]
    shows = {name: replace(b, project=name) for name, b in (("alpha", alpha), ("beta", beta)) if b}
    decisions = route_queue(queue, farm, shows, policy, NOW)
    by_id = {j.job_id: j for j in queue}
    assert [by_id[d.job_id].rank_position for d in decisions] == sorted(
        j.rank_position for j in queue
    )
    for decision in decisions:
        facts = by_id[decision.job_id]
        assert 0 <= decision.own_frames <= decision.cloud_frames <= facts.pending
        if decision.cloud_frames:
            assert facts.staged and not facts.confidential
            assert facts.placement in (Placement.AUTO, Placement.CLOUD)
        for room in decision.room_for:
            stuck = by_id[room.job_id]
            assert room.frames > 0
            assert room.payer == stuck.project
            assert stuck.rank_position > facts.rank_position
            assert f"to make room for job {room.job_id}, paid by show {room.payer}" in said(
                decision
            )
        assert said(decision)  # every decision can be said
    # No show is promised more than its room.
    for name, budget in shows.items():
        owed = sum(d.estimated_cost for d in decisions if by_id[d.job_id].project == name)
        assert owed <= max(0.0, budget.room) + 1e-6


# --- the cloud shape -----------------------------------------------------------------------------

CPU_SHAPE = CloudShape("VM.Standard.E5.Flex", gpus=0, memory_mb=65_536, pool="cloud")
GPU_SHAPE = CloudShape("VM.GPU.A10.1", gpus=1, memory_mb=245_760, pool="cloud")
LATE_GPU = job(due_at=NOW + HOUR, needs=CloudNeeds(gpus=1))


def test_a_gpu_job_never_bursts_to_a_cpu_shape_and_does_to_a_gpu_shape() -> None:
    cpu = route_job(LATE_GPU, FARM, RICH, PLAIN, NOW, shape=CPU_SHAPE)
    assert (cpu.verdict, cpu.cloud_frames, cpu.cloud_eligible) == (Verdict.SHAPE_MISFIT, 0, False)
    assert said(cpu) == "needs 1 GPU; the cloud shape VM.Standard.E5.Flex has none"
    gpu = route_job(LATE_GPU, FARM, RICH, PLAIN, NOW, shape=GPU_SHAPE)
    assert gpu.verdict is Verdict.BURST and gpu.cloud_frames == 85


def test_memory_and_pool_beyond_the_shape_keep_a_job_local() -> None:
    big = job(due_at=NOW + HOUR, needs=CloudNeeds(memory_mb=70_000))
    assert route_job(big, FARM, RICH, PLAIN, NOW, shape=CPU_SHAPE).verdict is Verdict.SHAPE_MISFIT
    assert route_job(big, FARM, RICH, PLAIN, NOW, shape=GPU_SHAPE).verdict is Verdict.BURST
    pooled = job(due_at=NOW + HOUR, needs=CloudNeeds(pool="lighting"))
    decision = route_job(pooled, FARM, RICH, PLAIN, NOW, shape=GPU_SHAPE)
    assert decision.grounds.misfit == Misfit("pool", "lighting", "cloud", "VM.GPU.A10.1")
    in_cloud_pool = job(due_at=NOW + HOUR, needs=CloudNeeds(pool="cloud"))
    assert route_job(in_cloud_pool, FARM, RICH, PLAIN, NOW, shape=GPU_SHAPE).cloud_frames == 85


def test_a_shape_of_unknown_memory_is_not_held_against_a_job() -> None:
    fixed = CloudShape("VM.Standard3.Flex", gpus=0, memory_mb=0, pool="cloud")
    big = job(due_at=NOW + HOUR, needs=CloudNeeds(memory_mb=70_000))
    assert shape_misfit(big.needs, fixed) is None
    assert route_job(big, FARM, RICH, PLAIN, NOW, shape=fixed).verdict is Verdict.BURST


def test_the_jobs_ahead_of_a_gpu_job_make_room_for_it_on_the_local_farm() -> None:
    stuck = replace(AHEAD, job_id=2, rank_position=2, needs=CloudNeeds(gpus=1))
    first, second = route_queue([AHEAD, stuck], FARM, {"alpha": RICH}, PLAIN, NOW, shape=CPU_SHAPE)
    assert second.verdict is Verdict.SHAPE_MISFIT and second.cloud_frames == 0
    assert second.room is not None and second.room.outcome is RoomOutcome.MADE
    assert first.verdict is Verdict.BURST
    assert [room.job_id for room in first.room_for] == [2]
