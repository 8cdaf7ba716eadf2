"""A discrete-event simulation of the day of ``burst_world`` under one burst policy.

The farm: a fixed local farm of one-frame tasks in earliest-due-date order, and a cloud pool
whose nodes boot for ``boot_s``, are billed per second from launch to release or preemption,
and, when preemptible, are preempted at random (Poisson, per node, at ``preempt_per_hour``,
times ``spike_factor`` during the spike; the k-th node launched draws the same luck under every
policy). A cloud task spends ``task_start_s`` fetching inputs and loading its scene before
rendering; data must be staged (``data_gb`` at ``stage_gbps``) before cloud nodes take a job.

The policies:

- ``never``: the local farm only.
- ``always``: every job that may leave the building is staged at submission and cloud nodes may
  take any of its frames; the pool holds one node per waiting cloud task (up to the maximum, at
  the same scale-up rate and idle timeout), preemptible where the job allows, fixed chunks; new
  cloud work stops at a show's budget (``budget.gate``), as any farm would.
- ``cloudburst``: ``routing.route_queue`` decides the frames each job may send (and whose
  budget pays), ``autoscale.plan_scale`` sizes the pool, drains nodes and sets the chunks,
  ``budget`` keeps the ledger: the daemon's policy functions themselves, every ``pass_s``.

Accounting: billed node seconds (boot, idle, task start-up, preempted partial work and
rendering) against productive seconds (render seconds of cloud frames that finished).
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Callable
from typing import Any

from burst_world import (
    HOUR,
    Job,
    JobSpec,
    Node,
    Policy,
    Result,
    Scenario,
    ShowSpec,
    Task,
    make_jobs,
)

from daemon.scheduling import autoscale, budget, routing

SHAPE = "VM.Standard.E5.Flex.32"
POOL = "(pool)"
"""Ledger project of node time no show's task ever used."""


# --- the simulation ------------------------------------------------------------------------------


class Simulation:
    """One run of the day under one policy."""

    def __init__(self, scenario: Scenario, specs: list[JobSpec], policy: Policy) -> None:
        self.s = scenario
        self.policy = policy
        self.specs = specs
        self.now = 0.0
        self.events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = 0
        self.active: list[Job] = []
        self.jobs: list[Job] = []
        self.free_slots = scenario.local_slots
        self.nodes: list[Node] = []
        self.all_nodes: list[Node] = []
        self.preempted_at: list[float] = []
        self.prices = budget.PriceList(
            (budget.ShapePrice(SHAPE, scenario.on_demand_hour, scenario.preemptible_hour),)
        )
        self.usage: list[budget.NodeUsage] = []
        self.storage: list[budget.StorageUsage] = []
        self.egress: list[budget.EgressUsage] = []
        self.spent: dict[str, float] = {show.name: 0.0 for show in scenario.shows}
        self.budget_stops: set[str] = set()
        self.productive_s = 0.0
        self.boot_s = 0.0
        self.start_s = 0.0
        self.lost_s = 0.0
        self.in_fallback = False
        self.draining: set[str] = set()
        self.task_s = scenario.task_start_s
        self.on_demand_task_s = autoscale.ScalePolicy().max_task_s
        self.routing_policy = routing.RoutingPolicy(default_frame_s=scenario.default_frame_s)
        self.scale_policy = autoscale.ScalePolicy(
            max_nodes=scenario.max_nodes,
            scale_up_per_step=scenario.scale_up_per_step,
            idle_release_s=scenario.idle_release_s,
            boot_s=scenario.boot_s,
            task_start_s=scenario.task_start_s,
        )
        self.unfinished = len(specs)
        self.backlog_since: float | None = None
        self.to_first_frame: list[float] = []

    # events

    def at(self, when: float, action: Callable[..., None], *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, action, args))

    def run(self) -> Result:
        for spec in self.specs:
            self.at(spec.submit_at, self.arrive, spec)
        if self.policy is not Policy.NEVER:
            self.at(0.0, self.scheduling_pass)
        while self.events:
            when, _, action, args = heapq.heappop(self.events)
            self.now = when
            action(*args)
        return self.result()

    def arrive(self, spec: JobSpec) -> None:
        job = Job(spec, pending=list(range(len(spec.frame_times) - 1, -1, -1)))
        self.jobs.append(job)
        bisect.insort(self.active, job, key=lambda j: j.key)
        if self.policy is Policy.ALWAYS and job.may_leave():
            self.stage(job)
        self.dispatch_local()

    def stage(self, job: Job) -> None:
        if not job.staging:
            job.staging = True
            self.at(self.now + job.spec.data_gb * 8 / self.s.stage_gbps, self.staged, job)

    def staged(self, job: Job) -> None:
        job.staged_at = self.now
        self.dispatch_cloud()

    # local farm

    def dispatch_local(self) -> None:
        for job in self.active:
            if self.free_slots <= 0:
                return
            while job.pending and self.free_slots > 0:
                frame = job.pending.pop()
                job.in_flight += 1
                self.free_slots -= 1
                self.at(self.now + job.spec.frame_times[frame], self.local_done, job, frame)

    def local_done(self, job: Job, frame: int) -> None:
        self.free_slots += 1
        job.in_flight -= 1
        self.frame_done(job, frame)
        self.dispatch_local()

    def frame_done(self, job: Job, frame: int) -> None:
        job.done += 1
        job.measured += 1
        job.measured_s += job.spec.frame_times[frame]
        if job.done == len(job.spec.frame_times):
            job.finished_at = self.now
            self.active.remove(job)
            self.unfinished -= 1
            if job.staged_at is not None:
                self.storage.append(
                    budget.StorageUsage(
                        job.spec.project, job.spec.job_id, job.spec.data_gb,
                        self.now - job.staged_at,
                    )
                )  # fmt: skip

    # cloud pool

    def launch(self, preemptible: bool) -> None:
        index = len(self.all_nodes)
        luck = random.Random(self.s.seed * 7919 + index)
        preempt_at = self.preemption_time(luck.expovariate(1.0)) if preemptible else math.inf
        node = Node(f"n{index}", preemptible, self.now, preempt_at, billed_from=self.now)
        self.nodes.append(node)
        self.all_nodes.append(node)
        self.at(self.now + self.s.boot_s, self.node_ready, node)
        if preempt_at < math.inf:
            self.at(preempt_at, self.preempt, node)

    def preemption_time(self, budget_left: float) -> float:
        """When a node launched now is preempted, given an Exp(1) draw: the rate integrated."""
        s, t = self.s, self.now
        edges = (s.spike_start_s, s.spike_start_s + s.spike_s)
        while True:
            in_spike = edges[0] <= t < edges[1]
            rate = s.preempt_per_hour / HOUR * (s.spike_factor if in_spike else 1.0)
            end = next((e for e in edges if e > t), math.inf)
            if rate > 0 and rate * (end - t) >= budget_left:
                return t + budget_left / rate
            if end == math.inf:
                return math.inf
            budget_left -= rate * (end - t)
            t = end

    def node_ready(self, node: Node) -> None:
        if node.gone_at is not None:
            return
        node.ready = True
        node.idle_since = self.now
        self.boot_s += self.now - node.launched_at
        self.dispatch_cloud()

    def bill(self, node: Node, until: float, project: str | None, job_id: int | None) -> None:
        seconds = until - node.billed_from
        if seconds > 0:
            record = budget.NodeUsage(project or POOL, job_id, SHAPE, node.preemptible, seconds)
            self.usage.append(record)
            if record.project in self.spent:
                self.spent[record.project] += budget.node_cost(record, self.prices)
        node.billed_from = until

    def release(self, node: Node) -> None:
        if not node.ready:
            self.boot_s += self.now - node.launched_at
        self.bill(node, self.now, node.last_project, None)
        node.gone_at = self.now
        self.nodes.remove(node)

    def preempt(self, node: Node) -> None:
        if node.gone_at is not None:
            return
        self.preempted_at.append(self.now)
        task = node.task
        if task is not None:
            job = task.job
            self.bill(node, self.now, task.payer, job.spec.job_id)
            self.lost_s += self.now - task.started
            job.pending.extend(task.frames)
            job.in_flight -= len(task.frames)
            job.cloud_in_flight -= len(task.frames)
            node.task = None
        self.release(node)
        self.dispatch_local()

    def chunk_for(self, job: Job, node: Node) -> int:
        if self.policy is Policy.ALWAYS:
            return self.s.naive_chunk
        frame_s = job.frame_s or self.s.default_frame_s
        task_s = self.task_s if node.preemptible else self.on_demand_task_s
        return autoscale.chunk_size(frame_s, task_s, self.scale_policy)

    def dispatch_cloud(self) -> None:
        for node in self.nodes:
            if not node.ready or node.task is not None or node.node_id in self.draining:
                continue
            job = next(
                (
                    j
                    for j in self.active
                    if j.allowance > 0
                    and j.pending
                    and j.staged_at is not None
                    and (j.spec.preemptible_ok or not node.preemptible)
                ),
                None,
            )
            if job is None:
                continue
            payer, bucket = self.payer(job)
            count = min(self.chunk_for(job, node), bucket, len(job.pending))
            frames = [job.pending.pop() for _ in range(count)]
            job.allowance -= count
            for sponsor in job.sponsors:
                if sponsor[0] == payer and payer != job.spec.project:
                    sponsor[1] -= count
            job.in_flight += count
            job.cloud_in_flight += count
            if self.backlog_since is not None:
                self.to_first_frame.append(self.now - self.backlog_since)
                self.backlog_since = None
            # Boot or idle time so far is charged to the show whose task the node runs now.
            self.bill(node, self.now, payer, None)
            end = self.now + self.s.task_start_s + sum(job.spec.frame_times[f] for f in frames)
            node.task = Task(job, payer, frames, self.now, end)
            node.idle_since = None
            node.last_project = payer
            self.at(end, self.task_done, node, node.task)

    def payer(self, job: Job) -> tuple[str, int]:
        """Whose budget pays the job's next cloud task, and how many frames it pays for."""
        own = job.allowance - sum(count for _, count in job.sponsors)
        if own > 0:
            return job.spec.project, own
        for show, count in job.sponsors:
            if count > 0:
                return show, count
        return job.spec.project, job.allowance

    def task_done(self, node: Node, task: Task) -> None:
        if node.task is not task:
            return
        job = task.job
        self.bill(node, self.now, task.payer, job.spec.job_id)
        node.task = None
        node.idle_since = self.now
        job.in_flight -= len(task.frames)
        job.cloud_in_flight -= len(task.frames)
        job.cloud_frames += len(task.frames)
        self.start_s += self.s.task_start_s
        for frame in task.frames:
            self.productive_s += job.spec.frame_times[frame]
            self.egress.append(
                budget.EgressUsage(task.payer, job.spec.job_id, self.s.out_gb_per_frame)
            )
            self.spent[task.payer] += self.s.out_gb_per_frame * self.prices.egress_gb
            self.frame_done(job, frame)
        if node.node_id in self.draining:
            self.release(node)
        self.dispatch_cloud()

    # scheduling passes

    def show_budget(self, show: ShowSpec, owed: dict[str, float]) -> budget.ShowBudget:
        price = budget.price_per_cloud_s(self.prices.shape(SHAPE), preemptible_share=0.85)
        return budget.ShowBudget(
            show.name, show.budget, self.spent[show.name], owed.get(show.name, 0.0), price
        )

    def owed(self) -> dict[str, float]:
        running = [
            budget.RunningTask(
                n.task.payer, n.task.job.spec.job_id, SHAPE, n.preemptible, n.task.end
            )
            for n in self.nodes
            if n.task is not None
        ]
        return budget.committed(running, self.prices, self.now)

    def scheduling_pass(self) -> None:
        if self.unfinished == 0 and not self.nodes:
            return
        owed = self.owed()
        budgets = {show.name: self.show_budget(show, owed) for show in self.s.shows}
        for show in self.s.shows:
            if not budget.gate(budgets[show.name]).open:
                self.budget_stops.add(show.name)
        if self.policy is Policy.ALWAYS:
            self.always_pass(budgets)
        else:
            self.cloudburst_pass(budgets)
        # A backlog episode: cloud work wanted while no cloud task runs, until one starts.
        if not any(job.wants_cloud for job in self.active):
            self.backlog_since = None
        elif self.backlog_since is None and not any(n.task for n in self.nodes):
            self.backlog_since = self.now
        self.dispatch_cloud()
        self.at(self.now + self.s.pass_s, self.scheduling_pass)

    def always_pass(self, budgets: dict[str, budget.ShowBudget]) -> None:
        tasks = {True: 0, False: 0}
        for job in self.active:
            allowed = job.may_leave() and budget.gate(budgets[job.spec.project]).open
            job.allowance = len(job.pending) if allowed else 0
            job.wants_cloud = job.allowance > 0
            if job.allowance and job.staged_at is not None:
                tasks[job.spec.preemptible_ok] += math.ceil(job.allowance / self.s.naive_chunk)
        want_od = min(tasks[False], self.s.max_nodes)
        want_pre = min(tasks[True], self.s.max_nodes - want_od)
        self.resize({True: want_pre, False: want_od})

    def resize(self, want: dict[bool, int]) -> None:
        """The naive pool: release idle-timed-out nodes beyond the want, launch up to it."""
        for kind in (True, False):
            held = [n for n in self.nodes if n.preemptible is kind]
            idle = sorted(
                (
                    n
                    for n in held
                    if n.task is None
                    and n.idle_since is not None
                    and self.now - n.idle_since >= self.s.idle_release_s
                ),
                key=lambda n: n.idle_since or 0.0,
            )
            for node in idle[: max(0, len(held) - want[kind])]:
                self.release(node)
        step = self.s.scale_up_per_step
        for kind in (False, True):
            held_now = sum(1 for n in self.nodes if n.preemptible is kind)
            room = self.s.max_nodes - len(self.nodes)
            for _ in range(max(0, min(want[kind] - held_now, step, room))):
                self.launch(kind)
                step -= 1

    def cloudburst_pass(self, budgets: dict[str, budget.ShowBudget]) -> None:
        facts = [
            routing.JobFacts(
                job_id=job.spec.job_id, project=job.spec.project, placement=job.spec.placement,
                frame_count=len(job.spec.frame_times), frames_done=job.done,
                frames_in_flight=job.in_flight, frame_s=job.frame_s, due_at=job.spec.due_at,
                confidential=job.spec.confidential, staged=job.staged_at is not None,
                rank_position=position, cloud_in_flight=job.cloud_in_flight,
            )
            for position, job in enumerate(self.active, start=1)
        ]  # fmt: skip
        farm = routing.FarmFacts(slots=self.s.local_slots)
        decisions = routing.route_queue(facts, farm, budgets, self.routing_policy, self.now)
        by_id = {job.spec.job_id: job for job in self.active}
        backlog = []
        for decision in decisions:
            job = by_id[decision.job_id]
            job.allowance = decision.cloud_frames
            job.sponsors = [[room.payer, room.frames] for room in decision.room_for]
            if decision.stage:
                self.stage(job)
            job.wants_cloud = decision.verdict in (
                routing.Verdict.BURST,
                routing.Verdict.AWAIT_STAGING,
            )
            if decision.cloud_frames > 0:
                backlog.append(
                    autoscale.BacklogItem(
                        job.spec.job_id,
                        decision.cloud_frames,
                        job.frame_s or self.s.default_frame_s,
                        job.spec.due_at,
                        job.spec.preemptible_ok,
                    )
                )
        plan = autoscale.plan_scale(
            backlog, self.node_facts(), self.preemption_facts(), self.scale_policy, self.now
        )
        self.in_fallback = plan.spike
        self.task_s = plan.task_s
        self.on_demand_task_s = plan.on_demand_task_s
        self.draining = set(plan.drain)
        for node_id in plan.release:
            self.release(next(n for n in self.nodes if n.node_id == node_id))
        for _ in range(plan.launch_on_demand):
            self.launch(False)
        for _ in range(plan.launch_preemptible):
            self.launch(True)

    def node_facts(self) -> list[autoscale.NodeFacts]:
        return [
            autoscale.NodeFacts(
                n.node_id, n.preemptible, n.launched_at, n.task is not None, n.idle_since
            )
            for n in self.nodes
        ]

    def preemption_facts(self) -> autoscale.PreemptionFacts:
        start = self.now - self.scale_policy.window_s
        count = len(self.preempted_at) - bisect.bisect_left(self.preempted_at, start)
        node_s = 0.0
        for node in reversed(self.all_nodes):
            end = node.gone_at if node.gone_at is not None else self.now
            if node.preemptible and end > start:
                node_s += end - max(start, node.launched_at)
        return autoscale.PreemptionFacts(count, node_s, self.in_fallback)

    # figures

    def result(self) -> Result:
        ledger = budget.build_ledger(self.prices, self.usage, self.storage, self.egress)
        with_due = [j for j in self.jobs if j.spec.due_at is not None]
        met = sum(
            1
            for j in with_due
            if j.finished_at is not None and j.spec.due_at is not None
            and j.finished_at <= j.spec.due_at
        )  # fmt: skip
        return Result(
            policy=self.policy,
            met=met,
            with_due=len(with_due),
            spend=ledger.total,
            billed_s=sum(u.seconds for u in self.usage),
            productive_s=self.productive_s,
            first_frame_s=self.to_first_frame,
            cloud_frames=sum(j.cloud_frames for j in self.jobs),
            nodes=len(self.all_nodes),
            preemptions=len(self.preempted_at),
            budget_stops=self.budget_stops,
            jobs_burst=sum(1 for j in self.jobs if j.cloud_frames),
            end_s=max((j.finished_at or 0.0) for j in self.jobs),
            boot_s=self.boot_s,
            start_s=self.start_s,
            lost_s=self.lost_s,
            shows={show: spend.total for show, spend in ledger.shows.items()},
        )


def simulate(scenario: Scenario, policy: Policy) -> Result:
    """Runs the scenario's day under ``policy``."""
    return Simulation(scenario, make_jobs(scenario), policy).run()
