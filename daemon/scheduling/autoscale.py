"""How many cloud nodes to hold, of which kind, and how long a cloud task should be: pure.

One call per scheduling pass, ``now`` an argument. Inputs: the cloud-eligible backlog (one
``BacklogItem`` per job that routing let burst: frames not started, seconds per frame on a cloud
node, due date, whether its class may run on preemptible capacity), the nodes the pool holds
(``NodeFacts``: kind, busy or idle since when) and the pool's recent preemptions
(``PreemptionFacts``). Output: a ``ScalePlan``.

Sizing. Each job's remaining cloud work (frames x seconds per frame, plus a start-up per task)
is spread over the time left to its due date, less the boot time and ``finish_early_s``, or
over ``max_drain_s`` when that is sooner (billing is per second: draining sooner costs about
the same and keeps the pool free for later work); a job late already gets one node per task.
The pool holds the sum of these rates, rounded up, between ``min_nodes`` and ``max_nodes``,
never more nodes than tasks. It grows by at most ``scale_up_per_step`` nodes a pass; it shrinks
by nodes idle for ``idle_release_s`` or more, longest idle first, down to the demand. Busy
nodes are never released: their tasks finish.

Capacity. Work whose class allows it runs on preemptible nodes (about half the price); the rest
on on-demand nodes. The preemption rate is preemptions per preemptible node-hour over the
window, smoothed by a prior (``prior_mtbp_s`` weighing ``prior_node_s`` node-seconds) so one
early preemption is no spike. Above ``spike_per_node_hour`` the preemptible-class work goes to
on-demand nodes (or, with fallback ``local``, nowhere: it waits for the local farm) until the
rate falls below ``calm_per_node_hour``. Nodes of the kind not preferred now, beyond the work
only that kind may take (on-demand nodes left from a spike; preemptible nodes in a spike), give
way: idle ones are released at once, busy ones are drained (no new task, released when it
ends), since a node of the preferred kind takes their place.

Chunks. A task lost to a preemption wastes its partial work, a task start wastes
``task_start_s``; the task length that wastes least is Young's ``sqrt(2 * start * MTBP)``
(MTBP: mean time between preemptions of one node). Tasks on preemptible nodes take that
length, never more than ``task_fraction`` (a quarter) of the MTBP nor ``max_task_s``; a chunk is
the whole frames that fit, at least one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from daemon.scheduling.time_words import duration


class Fallback(StrEnum):
    """Where preemptible-class work goes while preemptions spike."""

    ON_DEMAND = "on-demand"
    """On-demand cloud nodes (dearer, never preempted)."""
    LOCAL = "local"
    """Nowhere in the cloud: it waits for the local farm."""


@dataclass(frozen=True)
class ScalePolicy:
    """The knobs of the cloud pool (from ``Settings``)."""

    min_nodes: int = 0
    max_nodes: int = 50
    scale_up_per_step: int = 8
    """Nodes launched per pass at most."""
    idle_release_s: float = 300.0
    """A node idle this long may be released (not before)."""
    slots_per_node: int = 1
    boot_s: float = 180.0
    """Expected seconds from launch to a node taking work."""
    finish_early_s: float = 1800.0
    """Plan the cloud part of a job to end this long before its due date."""
    max_drain_s: float = 4 * 3600.0
    """A backlog is planned to drain in this time at most, however far its due date: billing
    is per second, so draining sooner costs about the same and leaves the pool free for the
    work that comes later."""
    window_s: float = 3600.0
    """The window the preemption rate is measured over (``PreemptionFacts``)."""
    spike_per_node_hour: float = 0.5
    calm_per_node_hour: float = 0.25
    prior_mtbp_s: float = 8 * 3600.0
    prior_node_s: float = 4 * 3600.0
    fallback: Fallback = Fallback.ON_DEMAND
    task_start_s: float = 30.0
    """Seconds a cloud task spends before rendering (fetching inputs, loading the scene)."""
    task_fraction: float = 0.25
    max_task_s: float = 3600.0
    max_chunk: int = 100


@dataclass(frozen=True)
class BacklogItem:
    """A job's cloud-eligible frames not started yet."""

    job_id: int
    frames: int
    frame_s: float
    """Seconds per frame on a cloud node."""
    due_at: float | None
    preemptible_ok: bool
    """Its class may run on preemptible capacity."""


@dataclass(frozen=True)
class NodeFacts:
    """A cloud node the pool holds (launched, not released, not preempted)."""

    node_id: str
    preemptible: bool
    launched_at: float
    busy: bool
    idle_since: float | None
    """When it became ready or finished its last task; None while booting or busy."""


@dataclass(frozen=True)
class PreemptionFacts:
    """The pool's preemptions over the last ``ScalePolicy.window_s``."""

    preemptions: int
    node_s: float
    """Preemptible node-seconds held in the window."""
    in_fallback: bool = False
    """The previous plan's ``spike`` (for the hysteresis)."""


@dataclass(frozen=True)
class ScalePlan:
    """What the pool should do this pass."""

    preemptible: int
    """Preemptible nodes the pool holds after this pass (held - released + launched)."""
    on_demand: int
    launch_preemptible: int
    launch_on_demand: int
    release: tuple[str, ...]
    """Ids of idle nodes to release now."""
    drain: tuple[str, ...]
    """Ids of busy nodes to give no new task and release when their task ends."""
    spike: bool
    """Preemptions spike: preemptible-class work goes to the fallback."""
    preemptions_per_node_hour: float
    task_s: float
    """Target length of a task on a preemptible node."""
    on_demand_task_s: float
    chunk_sizes: Mapping[int, int]
    """Frames per cloud task, per backlog job (for the capacity it is planned on)."""
    reasons: tuple[str, ...]


def preemption_rate(facts: PreemptionFacts, policy: ScalePolicy) -> float:
    """Preemptions per preemptible node-hour, smoothed by the prior."""
    prior = policy.prior_node_s / policy.prior_mtbp_s if policy.prior_mtbp_s > 0 else 0.0
    node_s = max(0.0, facts.node_s) + policy.prior_node_s
    if node_s <= 0:
        return 0.0
    return (max(0, facts.preemptions) + prior) / node_s * 3600.0


def is_spike(rate: float, in_fallback: bool, policy: ScalePolicy) -> bool:
    """Whether preemptions spike (with hysteresis: leaving a spike needs the calm rate)."""
    return rate > (policy.calm_per_node_hour if in_fallback else policy.spike_per_node_hour)


def task_seconds(rate: float, policy: ScalePolicy) -> float:
    """The target length of a task on a preemptible node at ``rate`` preemptions per hour."""
    if rate <= 0:
        return policy.max_task_s
    mtbp = 3600.0 / rate
    young = math.sqrt(2.0 * max(0.0, policy.task_start_s) * mtbp)
    return max(1.0, min(policy.max_task_s, policy.task_fraction * mtbp, young))


def chunk_size(frame_s: float, task_s: float, policy: ScalePolicy) -> int:
    """Whole frames of ``frame_s`` seconds that fit in ``task_s``, 1..``max_chunk``."""
    if frame_s <= 0:
        return max(1, policy.max_chunk)
    return max(1, min(policy.max_chunk, math.floor(task_s / frame_s)))


def _nodes_for(item: BacklogItem, chunk: int, policy: ScalePolicy, now: float) -> float:
    """Nodes that render ``item``'s frames in the time it has."""
    frames = max(0, item.frames)
    chunk = min(chunk, frames)
    tasks = math.ceil(frames / chunk)
    work = frames * item.frame_s + tasks * policy.task_start_s
    one_task = chunk * item.frame_s + policy.task_start_s
    time = policy.max_drain_s
    if item.due_at is not None:
        time = min(time, item.due_at - now - policy.boot_s - policy.finish_early_s)
    per_node = max(1, policy.slots_per_node)
    return min(tasks / per_node, work / (max(time, one_task) * per_node))


class _Demand(NamedTuple):
    strict: int
    """Nodes for work that may only run on demand (or all of it, in a spike)."""
    total: int
    chunks: dict[int, int]
    jobs: int
    frames: int
    work_s: float
    held_back: int
    """Frames kept off the cloud by the ``local`` fallback."""


def _demand(
    backlog: Iterable[BacklogItem],
    spike: bool,
    task_pre: float,
    policy: ScalePolicy,
    now: float,
) -> _Demand:
    """Nodes the backlog needs, and each job's chunk on the capacity it is planned on."""
    nodes = {True: 0.0, False: 0.0}  # preemptible -> nodes
    chunks: dict[int, int] = {}
    jobs = frames = held_back = 0
    work = 0.0
    for item in backlog:
        if item.frames <= 0:
            continue
        if item.preemptible_ok and spike and policy.fallback is Fallback.LOCAL:
            held_back += item.frames
            continue
        preemptible = item.preemptible_ok and not spike
        chunk = chunk_size(item.frame_s, task_pre if preemptible else policy.max_task_s, policy)
        chunks[item.job_id] = chunk
        nodes[preemptible] += _nodes_for(item, chunk, policy, now)
        jobs += 1
        frames += item.frames
        work += item.frames * item.frame_s
    strict = math.ceil(nodes[False] - 1e-9)
    total = max(policy.min_nodes, math.ceil(nodes[False] + nodes[True] - 1e-9))
    return _Demand(strict, total, chunks, jobs, frames, work, held_back)


def _give_way(
    nodes: Sequence[NodeFacts],
    want: Mapping[bool, int],
    preferred: bool,
    policy: ScalePolicy,
    now: float,
) -> tuple[list[str], list[str], list[str]]:
    """Nodes held beyond the want: (released now, drained, released after the idle timeout).

    Of the preferred kind, only nodes idle for the timeout go, longest idle first. Of the
    other kind, idle nodes go now and busy ones are drained; booting ones stay.
    """
    now_gone: list[str] = []
    drain: list[str] = []
    timed_out: list[str] = []
    for kind in (True, False):
        mine = [n for n in nodes if n.preemptible is kind]
        excess = len(mine) - want[kind]
        if excess <= 0:
            continue
        if kind is not preferred:
            for node in sorted(mine, key=lambda n: (n.busy, n.idle_since is None, n.node_id)):
                if excess <= 0:
                    break
                if node.busy:
                    drain.append(node.node_id)
                elif node.idle_since is not None:
                    now_gone.append(node.node_id)
                else:
                    continue  # still booting: it may serve its kind's own work yet
                excess -= 1
            continue
        idle = sorted(
            (
                n
                for n in mine
                if not n.busy
                and n.idle_since is not None
                and now - n.idle_since >= policy.idle_release_s
            ),
            key=lambda n: (n.idle_since, n.node_id),
        )
        timed_out.extend(n.node_id for n in idle[:excess])
    return now_gone, drain, timed_out


def plan_scale(
    backlog: Iterable[BacklogItem],
    nodes: Sequence[NodeFacts],
    preemptions: PreemptionFacts,
    policy: ScalePolicy,
    now: float,
) -> ScalePlan:
    """The pool's plan for this pass (see the module's docstring)."""
    rate = preemption_rate(preemptions, policy)
    spike = is_spike(rate, preemptions.in_fallback, policy)
    task_pre = task_seconds(rate, policy)
    demand = _demand(backlog, spike, task_pre, policy, now)
    reasons: list[str] = []
    if demand.jobs:
        reasons.append(
            f"{demand.jobs} job{'s' if demand.jobs != 1 else ''} with {demand.frames} cloud "
            f"frames waiting ({duration(demand.work_s)} of rendering): {demand.total} "
            "nodes make their dates"
        )
    else:
        reasons.append("no cloud backlog")
    if spike:
        where = (
            "new cloud capacity is on-demand"
            if policy.fallback is Fallback.ON_DEMAND
            else f"preemptible-class work stays local ({demand.held_back} frames)"
        )
        reasons.append(
            f"preemptions at {rate:.2f} per node-hour over the last "
            f"{duration(policy.window_s)} (threshold {policy.spike_per_node_hour:g}): "
            f"{where}"
        )

    # Work that may run on either kind goes to the preferred kind: preemptible, or on-demand
    # in a spike. Want per kind (True: preemptible), within the pool's maximum.
    preferred = not spike
    total, strict = demand.total, demand.strict
    want = {True: 0, False: total} if spike else {True: total - strict, False: strict}
    if total > policy.max_nodes:
        reasons.append(f"pool capped at {policy.max_nodes} nodes")
        want[False] = min(want[False], policy.max_nodes)
        want[True] = min(want[True], policy.max_nodes - want[False])

    now_gone, drain, timed_out = _give_way(nodes, want, preferred, policy, now)
    if timed_out:
        reasons.append(
            f"releasing {len(timed_out)} node{'s' if len(timed_out) != 1 else ''} idle for "
            f"{duration(policy.idle_release_s)} or more"
        )
    if now_gone or drain:
        reasons.append(
            f"{'on-demand' if preferred else 'preemptible'} nodes beyond their own work give "
            f"way: {len(now_gone)} released now, {len(drain)} drained (no new task, released "
            "when it ends)"
        )
    release = now_gone + timed_out
    gone = set(release)
    after = {True: 0, False: 0}
    for node in nodes:
        if node.node_id not in gone:
            after[node.preemptible] += 1

    step = max(0, policy.scale_up_per_step)
    room = max(0, policy.max_nodes - after[True] - after[False])
    launch_od = min(max(0, want[False] - after[False]), step, room)
    launch_pre = min(max(0, want[True] - after[True]), step - launch_od, room - launch_od)
    wanted_more = max(0, want[False] - after[False]) + max(0, want[True] - after[True])
    if launch_od or launch_pre:
        reasons.append(f"launching {launch_pre} preemptible and {launch_od} on-demand nodes")
    if wanted_more > launch_od + launch_pre == step:
        reasons.append(f"scale-up held to {step} nodes per pass ({wanted_more} wanted)")
    if demand.chunks:
        every = f"every {duration(3600.0 / rate)}" if rate > 0 else "never"
        reasons.append(
            f"tasks on preemptible nodes last about {duration(task_pre)} "
            f"(a node is preempted {every} on average)"
        )
    return ScalePlan(
        preemptible=after[True] + launch_pre,
        on_demand=after[False] + launch_od,
        launch_preemptible=launch_pre,
        launch_on_demand=launch_od,
        release=tuple(release),
        drain=tuple(drain),
        spike=spike,
        preemptions_per_node_hour=rate,
        task_s=task_pre,
        on_demand_task_s=policy.max_task_s,
        chunk_sizes=demand.chunks,
        reasons=tuple(reasons),
    )
