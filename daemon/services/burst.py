"""Bursting: each pass routes the queue, sizes the cloud pool and stores the routes.

``run_pass`` runs on the daemon's scheduler when a cloud backend is configured (``[cloud]
backend = "oci"`` or ``"simcloud"``):

1. the pool (``cloud_pool.CloudPool``) reads the backend's nodes back and sweeps the unhealthy
   and the unknown ones;
2. routing (``daemon.scheduling.routing``, pure) decides per unfinished job, in queue order,
   whether its frames may go to the cloud and how many, from the local farm's slots, each job's
   measured pace and due date, its show's budget, whether its data is staged and whether the
   cloud shape has the GPUs, memory and pool it requires (a GPU job never bursts to CPU nodes);
3. the autoscaler (``daemon.scheduling.autoscale``, pure) sizes the pool from that backlog;
   the pool launches nodes, releases idle ones, and busy ones of the wrong kind are drained;
4. the routes are stored with the chunk the pool was planned on.

``BurstService`` is also the agent service's ``LeaseGate``: a cloud node takes only frames of a
``burst`` job, up to its quota, in tasks of that chunk (the lease path splits a longer queued
task), and the render time of its tasks is booked to their show.

Money is ``cloud_books.CloudBooks``: routing reads each show's budget room from it, and a show
whose spend plus what its running tasks will still cost reaches its budget starts no new cloud
work (running tasks finish). Listing nodes and scaling by hand is ``resources.ResourceService``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from common.config import Settings
from common.models import JobRoute
from daemon.backends.base import CloudNode
from daemon.context import Context, to_datetime
from daemon.scheduling import autoscale, budget, routing, routing_words
from daemon.services.cloud_books import CloudBooks
from daemon.services.cloud_pool import CloudPool
from daemon.services.notifications import budgets_checked
from daemon.services.projects import ProjectService
from daemon.storage import cloud as cloud_store
from daemon.storage import jobs as job_store

logger = logging.getLogger(__name__)

#: Preemptions counted over this window for the autoscaler's rate.
PREEMPTION_WINDOW_S = 3600.0


class BurstService:
    """The routes of jobs and the pass that makes them. ``run_pass`` runs on one thread at a
    time; the ``LeaseGate`` methods run inside the agent service's transactions."""

    def __init__(self, context: Context, pool: CloudPool, projects: ProjectService) -> None:
        self.ctx = context
        self.pool = pool
        self.projects = projects
        self.books = CloudBooks(context)
        self._pass_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def enabled(self) -> bool:
        """Whether a backend bursts (routes then govern what cloud nodes take)."""
        return self.pool.enabled

    # --- the pass ----------------------------------------------------------------------------

    def run_pass(self) -> list[routing.RouteDecision]:
        """Syncs nodes, routes the queue, sizes the pool. Returns this pass's routes."""
        if not self.enabled or not self._pass_lock.acquire(blocking=False):
            return []
        try:
            now = self.ctx.now()
            nodes = self.pool.sync()
            decisions, jobs, budgets = self._route(now)
            self._tell_spent_budgets(decisions, jobs, budgets, now)
            backlog = [
                _Backlog(d, jobs[d.job_id], routing.frame_seconds(jobs[d.job_id], self._policy()))
                for d in decisions
                if d.verdict is routing.Verdict.BURST and d.cloud_frames > 0
            ]
            plan = self._scale(backlog, nodes, now)
            self._store_routes(decisions, jobs, plan.chunk_sizes, now)
            return decisions
        except Exception:
            logger.exception("the burst pass failed")
            return []
        finally:
            self._pass_lock.release()

    @property
    def shape(self) -> routing.CloudShape:
        """What the nodes the pool launches have."""
        return self.pool.shape

    def _policy(self) -> routing.RoutingPolicy:
        return routing.RoutingPolicy(default_frame_s=self.settings.ranking.default_frame_s)

    def _route(
        self, now: float
    ) -> tuple[
        list[routing.RouteDecision], dict[int, routing.JobFacts], dict[str, budget.ShowBudget]
    ]:
        """Routes the queue: each unfinished job's decision, the facts it was made on, and the
        shows' budgets it read."""
        db = self.ctx.database.db
        rows = cloud_store.routing_rows(db)
        policy = self._policy()
        facts = []
        for row in rows:
            spec = job_store.job_spec(row)
            facts.append(
                routing.JobFacts(
                    job_id=row["id"],
                    project=row["project"],
                    placement=spec.placement,
                    frame_count=row["frame_count"],
                    frames_done=row["frames_done"],
                    frames_in_flight=row["in_flight"],
                    frame_s=row["render_s"] / row["frames_done"] if row["frames_done"] else None,
                    due_at=row["due_at"],
                    confidential=self.projects.is_confidential(db, row["project"]),
                    staged=row["data_state"] == "staged",
                    rank_position=row["position"],
                    cloud_in_flight=row["cloud_in_flight"],
                    needs=routing.CloudNeeds.of(spec.requirements),
                )
            )
        farm = routing.FarmFacts(slots=max(0, cloud_store.local_slots(db)))
        budgets = self.books.show_budgets(db, now)
        decisions = routing.route_queue(facts, farm, budgets, policy, now, shape=self.shape)
        return decisions, {f.job_id: f for f in facts}, budgets

    def _tell_spent_budgets(
        self,
        decisions: list[routing.RouteDecision],
        jobs: dict[int, routing.JobFacts],
        budgets: dict[str, budget.ShowBudget],
        now: float,
    ) -> None:
        """Notifies the shows whose spent budget keeps a job that needs the cloud local."""
        stopped = {
            jobs[d.job_id].project for d in decisions
            if d.grounds.reason is routing.Reason.BUDGET_SPENT
        }  # fmt: skip
        reached = {show: budgets[show] for show in stopped if show in budgets}
        room = {show for show, b in budgets.items() if b.room > 0}
        with self.ctx.database.transaction() as db:
            budgets_checked(db, self.settings, reached, room, now)

    def _store_routes(
        self,
        decisions: list[routing.RouteDecision],
        jobs: dict[int, routing.JobFacts],
        chunks: Mapping[int, int],
        now: float,
    ) -> None:
        """Stores the routes the lease path reads, with the chunk the pool was planned on."""
        with self.ctx.database.transaction() as db:
            cloud_store.replace_routes(
                db,
                [
                    (d.job_id, d.verdict.value, d.cloud_frames + jobs[d.job_id].cloud_in_flight,
                     chunks.get(d.job_id, 1), d.estimated_cost, json.dumps(_payers(d, jobs)),
                     routing_words.sentence(d, now), now)
                    for d in decisions
                ],
            )  # fmt: skip

    def _scale(
        self, backlog: list[_Backlog], nodes: list[CloudNode], now: float
    ) -> autoscale.ScalePlan:
        """Sizes the pool for the backlog: launches, releases, drains. Returns the plan."""
        db = self.ctx.database.db
        state = cloud_store.cloud_state(db)
        policy = self._scale_policy(state["min_nodes"])
        rows = {row["id"]: row for row in cloud_store.list_nodes(db, live_only=True)}
        node_facts = []
        with self.ctx.database.transaction() as tx:
            for node in nodes:
                row = rows.get(node.id)
                busy = bool(row and row["busy"])
                booting = row is None or row["agent_id"] is None  # its agent has not come yet
                idle_since = None if busy or booting else (row and row["idle_since"]) or now
                if row is not None and row["idle_since"] != idle_since:
                    cloud_store.set_idle_since(tx, node.id, idle_since)
                node_facts.append(
                    autoscale.NodeFacts(
                        node_id=node.id,
                        preemptible=node.preemptible,
                        launched_at=node.launched_at,
                        busy=busy,
                        idle_since=idle_since,
                    )
                )
        items = [
            autoscale.BacklogItem(
                job_id=b.decision.job_id,
                frames=b.decision.cloud_frames,
                frame_s=b.frame_s,
                due_at=b.job.due_at,
                preemptible_ok=True,
            )
            for b in backlog
        ]
        preemptions = self._preemption_facts(now, bool(state["in_fallback"]))
        plan = autoscale.plan_scale(items, node_facts, preemptions, policy, now)
        released = self.pool.release(plan.release)
        with self.ctx.database.transaction() as tx:
            cloud_store.set_draining(tx, plan.drain)
            cloud_store.save_cloud_state(tx, plan.spike, now, list(plan.reasons))
        launched = self.pool.launch(plan.launch_preemptible, True)
        launched += self.pool.launch(plan.launch_on_demand, False)
        if launched or released:
            logger.info(
                "cloud pool: launched %d, released %d (%s)",
                len(launched), len(released), "; ".join(plan.reasons),
            )  # fmt: skip
        return plan

    # --- facts ---------------------------------------------------------------------------------

    def _scale_policy(self, min_nodes: int | None = None) -> autoscale.ScalePolicy:
        profile = self.pool.profile
        return autoscale.ScalePolicy(
            min_nodes=min_nodes or 0, max_nodes=profile.max_nodes,
            idle_release_s=self.settings.cloud.idle_timeout_s, boot_s=profile.boot_s,
        )  # fmt: skip

    def _preemption_facts(self, now: float, in_fallback: bool = False) -> autoscale.PreemptionFacts:
        since = now - PREEMPTION_WINDOW_S
        preempted = node_s = 0.0
        for row in cloud_store.list_nodes(self.ctx.database.db):
            if not row["preemptible"]:
                continue
            end = row["ended_at"] or now
            if end < since:
                continue
            node_s += max(0.0, end - max(since, row["launched_at"]))
            if "preempt" in row["detail"]:
                preempted += 1
        return autoscale.PreemptionFacts(
            preemptions=int(preempted), node_s=node_s, in_fallback=in_fallback
        )

    # --- the lease gate (inside the agent service's transactions) -----------------------------

    def may_lease(self, db: sqlite_utils.Database, agent: dict[str, Any]) -> bool:
        """A draining node takes nothing more."""
        return not cloud_store.node_draining(db, agent["name"])

    def cloud_quota(self, db: sqlite_utils.Database, agent: dict[str, Any], job_id: int) -> int:
        """How many frames a cloud agent may take of this job now (0: none)."""
        route = cloud_store.route_of(db, job_id)
        if route is None or route["verdict"] != routing.Verdict.BURST.value:
            return 0
        # The quota counts frames the cloud holds now and those it finished since the decision,
        # so fast frames cannot take more than routing allowed before the next pass.
        held = cloud_store.cloud_in_flight(db, job_id)
        held += cloud_store.cloud_done_since(db, job_id, route["decided_at"])
        room = route["cloud_quota"] - held
        return max(0, min(room, route["cloud_chunk"]))

    def book_task_end(
        self,
        db: sqlite_utils.Database,
        agent: dict[str, Any],
        task: dict[str, Any],
        project: str,
        now: float,
        *,
        preempted: bool,
    ) -> None:
        """Books a cloud node's render time of an ended task to its show (for budgets)."""
        self.books.record_task_end(db, agent, task, project, now, preempted=preempted)

    # --- reading -------------------------------------------------------------------------------

    def route(self, job_id: int) -> JobRoute | None:
        row = cloud_store.route_of(self.ctx.database.db, job_id)
        if row is None:
            return None
        return JobRoute(
            **{
                **row,
                "payers": json.loads(row["payers"]),
                "decided_at": to_datetime(row["decided_at"]),
            }
        )


class _Backlog:
    """A job routing let burst, with its facts and pace."""

    def __init__(
        self, decision: routing.RouteDecision, job: routing.JobFacts, frame_s: float
    ) -> None:
        self.decision = decision
        self.job = job
        self.frame_s = frame_s


def _payers(decision: routing.RouteDecision, jobs: dict[int, routing.JobFacts]) -> dict[str, int]:
    """Who pays for the job's cloud frames: its own show, and shows it makes room for."""
    payers = {jobs[decision.job_id].project: decision.own_frames}
    for room in decision.room_for:
        payers[room.payer] = payers.get(room.payer, 0) + room.frames
    return {show: frames for show, frames in payers.items() if frames > 0}
