"""Properties of the ranking policy (hypothesis): monotone inputs, ties, shares that converge."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.models import RankPartName
from daemon.scheduling.ranking import (
    Policy,
    Rank,
    RankInput,
    describe_parts,
    explain,
    rank_job,
    rank_jobs,
    show_shares,
    work_left_s,
)

NOW = 1_800_000_000.0
DAY = 86400.0
SHOWS = ("alpha", "beta", "gamma")

weights = st.floats(0.0, 10.0, allow_nan=False)
policies = st.builds(
    Policy,
    shotgrid_weight=weights, due_weight=weights, artist_weight=weights, age_weight=weights,
    fair_share_weight=weights,
    due_horizon_s=st.floats(60.0, 30 * DAY), age_half_s=st.floats(60.0, 30 * DAY),
    default_frame_s=st.floats(1.0, 3600.0), unlinked_priority=st.floats(0.0, 100.0),
    over_share_yields=st.booleans(),
)  # fmt: skip


@st.composite
def job_inputs(draw: st.DrawFn, job_id: int) -> RankInput:
    frame_count = draw(st.integers(1, 10_000))
    return RankInput(
        job_id=job_id,
        project=draw(st.sampled_from(SHOWS)),
        submitted_at=NOW - draw(st.floats(0.0, 30 * DAY)),
        artist_priority=draw(st.integers(0, 100)),
        frame_count=frame_count,
        frames_done=draw(st.integers(0, frame_count)),
        render_s=draw(st.floats(0.0, 1e6)),
        chunk_size=draw(st.integers(1, 100)),
        due_at=draw(st.none() | st.floats(NOW - 5 * DAY, NOW + 60 * DAY)),
        sg_priority=draw(st.none() | st.floats(0.0, 100.0)),
        sg_label="",
        sg_due_at=draw(st.none() | st.floats(NOW - 5 * DAY, NOW + 60 * DAY)),
        pinned=draw(st.booleans()),
    )


@st.composite
def farms(draw: st.DrawFn) -> tuple[list[RankInput], dict[str, float], dict[str, int]]:
    count = draw(st.integers(1, 12))
    jobs = [draw(job_inputs(job_id)) for job_id in range(1, count + 1)]
    shares = {show: draw(st.floats(0.1, 10.0)) for show in SHOWS}
    active = {show: draw(st.integers(0, 50)) for show in SHOWS}
    return jobs, shares, active


def place(
    jobs: list[RankInput], shares: dict[str, float], active: dict[str, int], policy: Policy,
    job_id: int,
) -> tuple[int, float]:  # fmt: skip
    """The job's place in the queue (0 first) and its score."""
    competing = {job.project for job in jobs}
    ranks = rank_jobs(jobs, show_shares(shares, active, competing), policy, NOW, slots=10)
    index = next(i for i, rank in enumerate(ranks) if rank.job_id == job_id)
    return index, ranks[index].score


Raise = Callable[[RankInput, st.DrawFn], RankInput]

RAISES: dict[str, Raise] = {
    "shotgrid priority": lambda j, draw: j._replace(
        sg_priority=min(100.0, (j.sg_priority or 0.0) + draw(st.floats(0.0, 100.0)))
        if j.sg_priority is not None
        else None
    ),
    "artist priority": lambda j, draw: j._replace(
        artist_priority=min(100, j.artist_priority + draw(st.integers(0, 100)))
    ),
    "age (submitted earlier)": lambda j, draw: j._replace(
        submitted_at=j.submitted_at - draw(st.floats(0.0, 30 * DAY))
    ),
    "own due date earlier": lambda j, draw: j._replace(
        due_at=(j.due_at if j.due_at is not None else NOW + 90 * DAY)
        - draw(st.floats(0.0, 60 * DAY))
    ),
    "ShotGrid due date earlier": lambda j, draw: j._replace(
        sg_due_at=(j.sg_due_at if j.sg_due_at is not None else NOW + 90 * DAY)
        - draw(st.floats(0.0, 60 * DAY))
    ),
    "more frames left": lambda j, draw: j._replace(
        frame_count=j.frame_count + draw(st.integers(0, 10_000))
    ),
    # Only a measured pace can get slower: a job with no frame measured yet runs at the
    # policy's default pace, and its first measurement may rightly be faster than that.
    "slower measured frames": lambda j, draw: (
        j._replace(render_s=j.render_s + draw(st.floats(0.0, 1e6)))
        if j.frames_done > 0 and j.render_s > 0
        else j
    ),
    "pinned": lambda j, draw: j._replace(pinned=True),
}


@pytest.mark.parametrize("what", sorted(RAISES))
@settings(max_examples=60, deadline=None)
@given(farm=farms(), policy=policies, data=st.data())
def test_raising_one_input_never_lowers_a_job(
    what: str,
    farm: tuple[list[RankInput], dict[str, float], dict[str, int]],
    policy: Policy,
    data: st.DataObject,
) -> None:
    jobs, shares, active = farm
    target = data.draw(st.sampled_from(jobs))
    before, score_before = place(jobs, shares, active, policy, target.job_id)
    raised = RAISES[what](target, data.draw)
    after_jobs = [raised if j.job_id == target.job_id else j for j in jobs]
    after, score_after = place(after_jobs, shares, active, policy, target.job_id)
    assert after <= before
    if raised.pinned == target.pinned:
        assert score_after >= score_before


@settings(max_examples=60, deadline=None)
@given(farm=farms(), policy=policies, data=st.data())
def test_a_bigger_share_or_less_use_never_lowers_a_show(
    farm: tuple[list[RankInput], dict[str, float], dict[str, int]],
    policy: Policy,
    data: st.DataObject,
) -> None:
    jobs, shares, active = farm
    target = data.draw(st.sampled_from(jobs))
    show = target.project
    before, _ = place(jobs, shares, active, policy, target.job_id)
    more_share = {**shares, show: shares[show] + data.draw(st.floats(0.0, 10.0))}
    assert place(jobs, more_share, active, policy, target.job_id)[0] <= before
    less_use = {**active, show: max(0, active[show] - data.draw(st.integers(0, 50)))}
    assert place(jobs, shares, less_use, policy, target.job_id)[0] <= before


@settings(max_examples=100, deadline=None)
@given(
    job=job_inputs(1), policy=policies, earlier=st.floats(0.0, 10 * DAY),
    later=st.floats(0.001, 10 * DAY), others=st.lists(job_inputs(9), max_size=4),
)  # fmt: skip
def test_jobs_equal_in_all_inputs_rank_by_submission_time(
    job: RankInput, policy: Policy, earlier: float, later: float, others: list[RankInput]
) -> None:
    first = job._replace(job_id=7, submitted_at=NOW - earlier - later)
    second = job._replace(job_id=3, submitted_at=NOW - earlier)  # a smaller id, submitted later
    extra = [o._replace(job_id=10 + i) for i, o in enumerate(others)]
    shares = show_shares({}, {"alpha": 2}, SHOWS)
    order = [r.job_id for r in rank_jobs([second, *extra, first], shares, policy, NOW, 4)]
    assert order.index(first.job_id) < order.index(second.job_id)


def simulate_day(shares: dict[str, float], seed: int, slots: int = 24) -> dict[str, float]:
    """A day of a farm of ``slots`` agents that pass the queue every 10 s; each show has five
    jobs of a thousand tasks with random priorities and due dates, tasks take 10 to 40 min.
    Returns each show's share of the farm's busy time after the first two hours."""
    rng = random.Random(seed)
    names = list(shares)
    jobs, left = [], {}
    for n, show in enumerate(names):
        for i in range(5):
            due = NOW + rng.uniform(3600, 5 * DAY) if rng.random() < 0.5 else None
            job = RankInput(
                n * 100 + i, show, NOW - rng.uniform(0, DAY), rng.randint(0, 100), 1000, 0, 0.0,
                1, due, rng.choice([None, 10.0, 50.0, 100.0]), "", None, False,
            )  # fmt: skip
            jobs.append(job)
            left[job.job_id] = job.frame_count
    running: list[tuple[float, str]] = []
    active = dict.fromkeys(names, 0)
    busy = dict.fromkeys(names, 0.0)
    step, now = 10.0, NOW
    while now < NOW + DAY:
        while running and running[0][0] <= now:
            active[heapq.heappop(running)[1]] -= 1
        free = slots - sum(active.values())
        if free:
            live = [j for j in jobs if left[j.job_id]]
            competing = {j.project for j in live}
            split = show_shares(shares, active, competing, slots)
            for rank in rank_jobs(live, split, Policy(), now, slots):
                while free and left[rank.job_id]:
                    left[rank.job_id] -= 1
                    show = names[rank.job_id // 100]
                    active[show] += 1
                    heapq.heappush(running, (now + rng.uniform(600, 2400), show))
                    free -= 1
        if now >= NOW + 2 * 3600:
            for show in names:
                busy[show] += active[show] * step
        now += step
    total = sum(busy.values())
    return {show: busy[show] / total for show in names}


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    shares=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(1, 5).map(float),
                           min_size=2, max_size=4),
    seed=st.integers(0, 1000),
)  # fmt: skip
def test_shares_converge_to_their_targets_over_a_simulated_day(
    shares: dict[str, float], seed: int
) -> None:
    slots = 24
    used = simulate_day(shares, seed, slots)
    total = sum(shares.values())
    for show, weight in shares.items():
        assert abs(used[show] - weight / total) <= 1 / slots, (show, used, shares)


def test_work_left_counts_waves_of_tasks_at_the_measured_pace() -> None:
    job = RankInput(1, "a", NOW, 50, 100, 20, 200.0, 10, None, None, "", None, False)
    # 80 frames left in 8 tasks of 10 frames at 10 s a frame, 3 agents: 3 waves of 100 s.
    assert work_left_s(job, Policy(), slots=3) == 300.0
    fresh = job._replace(frames_done=0, render_s=0.0)
    assert work_left_s(fresh, Policy(default_frame_s=5.0), slots=100) == 50.0


def test_the_sentence_names_the_strongest_parts_first() -> None:
    job = RankInput(1, "alpha", NOW - 3 * 3600, 50, 100, 0, 0.0, 10, NOW + 2 * DAY, 100.0, "A",
                    None, False)  # fmt: skip
    shares = show_shares({}, {"alpha": 6, "beta": 2}, {"alpha", "beta"})
    rank: Rank = rank_job(job, shares["alpha"], Policy(), NOW, slots=4)
    parts = describe_parts(rank, Policy(), "alpha", stale=False)
    assert parts[0].name is RankPartName.SHOTGRID
    sentence = explain(parts, 3, 12, pinned_by="coord")
    assert sentence == (
        "Rank 3 of 12: pinned to the top by coord, ShotGrid priority A (100/100), due in 2 days "
        "with about 30 min of rendering left, artist priority 50, waiting 3 h; held back as show "
        "alpha over its share (75% of the farm for a 50% share), so it yields to shows under "
        "theirs."
    )


def test_a_rank_that_only_drifted_is_not_written_again() -> None:
    from daemon.scheduling.ranking import Rank, moved

    base = Rank(*[0.0] * len(Rank._fields))._replace(
        job_id=1, pinned=False, sg_priority=None, sg_label="", due_at=None, due_source=""
    )
    later = base._replace(ranked_at=5.0, age_s=5.0, age=base.age + 1e-6, score=1e-6)
    assert not moved(base, later)  # five seconds older, nothing else
    assert moved(None, base)
    assert moved(base, later._replace(tier=-1.0))  # under its share now
    assert moved(base, later._replace(score=0.01, sort_key=-0.01))
    assert moved(base, later._replace(pinned=True))
    assert moved(base, later._replace(sg_label="A"))
