"""The cloud pool's plan: size, kind of capacity, releases, and the length of cloud tasks."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.scheduling.autoscale import (
    BacklogItem,
    Fallback,
    NodeFacts,
    PreemptionFacts,
    ScalePlan,
    ScalePolicy,
    chunk_size,
    is_spike,
    plan_scale,
    preemption_rate,
    task_seconds,
)

NOW = 1_800_000_000.0
HOUR = 3600.0
POLICY = ScalePolicy(max_nodes=20, scale_up_per_step=5, idle_release_s=300.0)
CALM = PreemptionFacts(preemptions=0, node_s=0.0)
#: 10 preemptions over 4 node-hours: 2.6 per node-hour with the prior, a spike.
STORM = PreemptionFacts(preemptions=10, node_s=4 * HOUR)


def item(
    job_id: int = 1,
    frames: int = 100,
    frame_s: float = 360.0,
    due_in: float | None = None,
    preemptible_ok: bool = True,
) -> BacklogItem:
    due = None if due_in is None else NOW + due_in
    return BacklogItem(job_id, frames, frame_s, due, preemptible_ok)


def node(
    node_id: str, *, preemptible: bool = True, busy: bool = False, idle_for: float | None = 0.0
) -> NodeFacts:
    idle_since = None if busy or idle_for is None else NOW - idle_for
    return NodeFacts(node_id, preemptible, NOW - 2 * HOUR, busy, idle_since)


def plan(
    backlog: list[BacklogItem],
    nodes: list[NodeFacts] | None = None,
    preemptions: PreemptionFacts = CALM,
    policy: ScalePolicy = POLICY,
) -> ScalePlan:
    return plan_scale(backlog, nodes or [], preemptions, policy, NOW)


# --- size ----------------------------------------------------------------------------------------


def test_the_pool_is_sized_to_make_the_date() -> None:
    # 100 frames x 360 s = 10 h of rendering in 3-frame tasks (22 min at a node preempted every
    # 8 h): 34 tasks, 36,000 + 34 x 30 s; due in 4 h 35 min less boot and 30 min: 4 h.
    result = plan([item(due_in=4 * HOUR + 180 + 1800)])
    assert result.chunk_sizes == {1: 3}
    assert result.launch_preemptible == math.ceil((36_000 + 34 * 30) / (4 * HOUR)) == 3
    assert result.launch_on_demand == 0


def test_a_nearer_date_needs_more_nodes() -> None:
    far = plan([item(due_in=10 * HOUR)])
    near = plan([item(due_in=2 * HOUR)])
    assert near.preemptible > far.preemptible


def test_a_late_job_gets_a_node_per_task_up_to_the_step() -> None:
    result = plan([item(frames=9, due_in=-HOUR)], policy=replace(POLICY, scale_up_per_step=50))
    assert result.preemptible == 3  # 9 frames in tasks of 3


def test_no_backlog_no_nodes() -> None:
    result = plan([])
    assert (result.preemptible, result.on_demand, result.release) == (0, 0, ())
    assert result.reasons[0] == "no cloud backlog"


def test_the_pool_never_exceeds_its_maximum() -> None:
    huge = [item(job_id=i, frames=5000, due_in=HOUR) for i in range(10)]
    full = [node(f"n{i}", busy=True) for i in range(20)]
    result = plan(huge, full)
    assert result.preemptible + result.on_demand == 20
    assert result.launch_preemptible + result.launch_on_demand == 0
    assert "pool capped at 20 nodes" in result.reasons


def test_scale_up_is_limited_to_the_step() -> None:
    result = plan([item(frames=5000, due_in=HOUR)])
    assert result.launch_preemptible == 5
    assert "scale-up held to 5 nodes per pass (20 wanted)" in result.reasons


def test_the_minimum_pool_is_kept() -> None:
    idle = [node(f"n{i}", idle_for=HOUR) for i in range(3)]
    result = plan([], idle, policy=replace(POLICY, min_nodes=2))
    assert len(result.release) == 1
    assert result.preemptible == 2


# --- release -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle_for", "released"),
    [(0.0, False), (299.0, False), (300.0, True), (HOUR, True), (None, False)],
    ids=["just idle", "a second before the timeout", "at the timeout", "long idle", "booting"],
)
def test_idle_nodes_go_after_the_timeout_and_not_before(
    idle_for: float | None, released: bool
) -> None:
    result = plan([], [node("n1", idle_for=idle_for)])
    assert (result.release == ("n1",)) is released


def test_busy_nodes_are_never_released() -> None:
    result = plan([], [node("n1", busy=True), node("n2", idle_for=HOUR)])
    assert result.release == ("n2",)
    assert result.drain == ()


def test_idle_nodes_stay_while_there_is_work_for_them() -> None:
    nodes = [node(f"n{i}", idle_for=HOUR) for i in range(3)]
    result = plan([item(frames=5000, due_in=HOUR)], nodes)
    assert result.release == ()


def test_the_longest_idle_goes_first() -> None:
    nodes = [node("a", idle_for=400.0), node("b", idle_for=900.0), node("c", idle_for=600.0)]
    result = plan([item(frames=3, due_in=10 * HOUR)], nodes)  # work for one node
    assert result.release == ("b", "c")


# --- capacity ------------------------------------------------------------------------------------


def test_preemptible_capacity_where_the_job_class_allows() -> None:
    backlog = [
        item(job_id=1, due_in=2 * HOUR),
        item(job_id=2, due_in=2 * HOUR, preemptible_ok=False),
    ]
    result = plan(backlog, policy=replace(POLICY, scale_up_per_step=50))
    assert result.launch_preemptible > 0
    assert result.launch_on_demand > 0
    assert not result.spike


def test_work_that_may_only_run_on_demand_launches_first() -> None:
    backlog = [
        item(job_id=1, due_in=2 * HOUR),
        item(job_id=2, due_in=2 * HOUR, preemptible_ok=False),
    ]
    result = plan(backlog)
    assert (result.launch_on_demand, result.launch_preemptible) == (5, 0)


def test_a_preemption_spike_switches_to_on_demand() -> None:
    result = plan([item(due_in=2 * HOUR)], preemptions=STORM)
    assert result.spike
    assert (result.launch_preemptible, result.launch_on_demand) == (0, 5)
    assert any("new cloud capacity is on-demand" in r for r in result.reasons)


def test_a_spike_with_the_local_fallback_sends_nothing_preemptible_to_the_cloud() -> None:
    backlog = [
        item(job_id=1, due_in=2 * HOUR),
        item(job_id=2, frames=3, due_in=2 * HOUR, preemptible_ok=False),
    ]
    result = plan(backlog, preemptions=STORM, policy=replace(POLICY, fallback=Fallback.LOCAL))
    assert result.preemptible == 0
    assert result.on_demand == 1
    assert set(result.chunk_sizes) == {2}
    assert any("stays local (100 frames)" in r for r in result.reasons)


def test_in_a_spike_preemptible_nodes_give_way() -> None:
    nodes = [node("busy", busy=True), node("idle", idle_for=10.0)]
    result = plan([item(due_in=2 * HOUR)], nodes, preemptions=STORM)
    assert result.release == ("idle",)  # at once, not after the idle timeout
    assert result.drain == ("busy",)


def test_after_a_spike_on_demand_nodes_beyond_their_own_work_give_way() -> None:
    nodes = [
        node("od-busy-1", preemptible=False, busy=True),
        node("od-busy-2", preemptible=False, busy=True),
        node("od-idle", preemptible=False, idle_for=10.0),
    ]
    backlog = [
        item(job_id=1, frames=50, due_in=2 * HOUR),
        item(job_id=2, frames=3, due_in=2 * HOUR, preemptible_ok=False),
    ]
    result = plan(backlog, nodes)
    assert result.on_demand - len(result.drain) - result.launch_on_demand == 1
    assert result.release == ("od-idle",)
    assert result.drain == ("od-busy-1",)
    assert result.launch_preemptible > 0


@pytest.mark.parametrize(
    ("rate", "in_fallback", "spike"),
    [(0.1, False, False), (0.6, False, True), (0.4, False, False), (0.4, True, True),
     (0.2, True, False)],
)  # fmt: skip
def test_the_spike_has_hysteresis(rate: float, in_fallback: bool, spike: bool) -> None:
    assert is_spike(rate, in_fallback, POLICY) is spike


def test_one_early_preemption_is_no_spike() -> None:
    rate = preemption_rate(PreemptionFacts(preemptions=1, node_s=600.0), POLICY)
    assert rate < POLICY.spike_per_node_hour
    assert preemption_rate(STORM, POLICY) == pytest.approx((10 + 0.5) / 8)


# --- chunks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preemptions_per_hour", "task_s"),
    [
        (0.125, math.sqrt(2 * 30 * 8 * HOUR)),  # Young's optimum, 22 min
        (1.0, math.sqrt(2 * 30 * HOUR)),  # 7.7 min
        (30.0, HOUR / 30 / 4),  # a quarter of the 2 min between preemptions
        (0.0, HOUR),  # never preempted: the longest task
    ],
)
def test_task_length_follows_the_time_between_preemptions(
    preemptions_per_hour: float, task_s: float
) -> None:
    assert task_seconds(preemptions_per_hour, POLICY) == pytest.approx(task_s)


def test_chunks_shrink_when_preemptions_are_frequent() -> None:
    sizes = [chunk_size(30.0, task_seconds(rate, POLICY), POLICY) for rate in (0.1, 1, 5, 50)]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] > sizes[-1] >= 1
    calm = plan([item(frame_s=30.0, due_in=3 * HOUR)])
    stormy = plan([item(frame_s=30.0, due_in=3 * HOUR)], preemptions=replace(STORM, preemptions=3))
    assert stormy.chunk_sizes[1] < calm.chunk_sizes[1]


@pytest.mark.parametrize(
    ("frame_s", "task_s", "chunk"),
    [(60.0, 600.0, 10), (61.0, 600.0, 9), (5000.0, 600.0, 1), (1.0, 1e6, 100), (0.0, 600.0, 100)],
)
def test_a_chunk_is_the_whole_frames_that_fit(frame_s: float, task_s: float, chunk: int) -> None:
    assert chunk_size(frame_s, task_s, POLICY) == chunk


# --- properties ----------------------------------------------------------------------------------

backlogs = st.lists(
    st.builds(
        BacklogItem,
        job_id=st.integers(1, 1000),
        frames=st.integers(0, 5000),
        frame_s=st.floats(1.0, 7200.0),
        due_at=st.none() | st.floats(NOW - 5 * HOUR, NOW + 48 * HOUR),
        preemptible_ok=st.booleans(),
    ),
    max_size=8,
)


@st.composite
def pools(draw: st.DrawFn) -> list[NodeFacts]:
    count = draw(st.integers(0, 30))
    nodes = []
    for i in range(count):
        busy = draw(st.booleans())
        booting = not busy and draw(st.booleans())
        idle_since = None if busy or booting else NOW - draw(st.floats(0.0, 2 * HOUR))
        nodes.append(NodeFacts(f"n{i}", draw(st.booleans()), NOW - 3 * HOUR, busy, idle_since))
    return nodes


scale_policies = st.builds(
    ScalePolicy,
    min_nodes=st.integers(0, 5),
    max_nodes=st.integers(5, 40),
    scale_up_per_step=st.integers(0, 10),
    idle_release_s=st.floats(0.0, 3600.0),
    fallback=st.sampled_from(list(Fallback)),
)
preemption_facts = st.builds(
    PreemptionFacts,
    preemptions=st.integers(0, 50),
    node_s=st.floats(0.0, 100 * HOUR),
    in_fallback=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(backlog=backlogs, nodes=pools(), facts=preemption_facts, policy=scale_policies)
def test_a_plan_keeps_the_pools_rules(
    backlog: list[BacklogItem], nodes: list[NodeFacts], facts: PreemptionFacts, policy: ScalePolicy
) -> None:
    result = plan_scale(backlog, nodes, facts, policy, NOW)
    by_id = {n.node_id: n for n in nodes}
    launched = result.launch_preemptible + result.launch_on_demand
    assert 0 <= launched <= policy.scale_up_per_step
    assert result.preemptible + result.on_demand == len(nodes) - len(result.release) + launched
    if len(nodes) <= policy.max_nodes:
        assert result.preemptible + result.on_demand <= policy.max_nodes
    if launched:
        assert result.preemptible + result.on_demand <= policy.max_nodes
    assert len(set(result.release)) == len(result.release)
    for node_id in result.release:
        released = by_id[node_id]
        assert not released.busy and released.idle_since is not None
        preferred = not result.spike
        if released.preemptible is preferred:  # the kind in favour goes only after the timeout
            assert NOW - released.idle_since >= policy.idle_release_s
    for node_id in result.drain:
        assert by_id[node_id].busy
        assert by_id[node_id].preemptible is result.spike
    for job_id, chunk in result.chunk_sizes.items():
        assert 1 <= chunk <= policy.max_chunk
        assert any(b.job_id == job_id and b.frames > 0 for b in backlog)
    assert 1.0 <= result.task_s <= policy.max_task_s
