"""Bursting: each pass routes the queue, sizes the cloud pool and keeps the books.

``run_pass`` runs on the daemon's scheduler when a cloud backend is configured (``[cloud]
backend = "oci"`` or ``"simcloud"``):

1. the nodes the backend holds are read back (state, cost so far, preempted or not); nodes
   tagged ours that the daemon does not know, or whose agent never reports, are swept;
2. routing (``daemon.scheduling.routing``, pure) decides per unfinished job, in queue order,
   whether its frames may go to the cloud and how many, from the local farm's slots, each job's
   measured pace and due date, its show's budget and whether its data is staged;
3. the autoscaler (``daemon.scheduling.autoscale``, pure) sizes the pool from that backlog;
   nodes are launched (each with its own one-time enrollment token), idle ones released, busy
   ones of the wrong kind drained;
4. the routes are stored with the chunk the pool was planned on, and the lease path reads them:
   a cloud node takes only frames of a ``burst`` job, up to its quota, in tasks of that chunk
   (a longer queued task is split).

Money is ``cloud_books.CloudBooks``: routing reads each show's budget room from it, and a show
whose spend plus what its running tasks will still cost reaches its budget starts no new cloud
work (running tasks finish).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import sqlite_utils

from common.config import Settings
from common.errors import ConfigError
from common.models import JobRoute, Resource, ScaleRequest, ScaleResult
from daemon.backends import sweeper
from daemon.backends.base import CloudNode, NodeState, ProvisionRequest, RenderBackend
from daemon.scheduling import autoscale, routing
from daemon.services.cloud_books import CloudBooks
from daemon.services.context import Context, to_datetime, to_optional_datetime
from daemon.services.enrollment import EnrollmentService
from daemon.services.projects import ProjectService
from daemon.storage import cloud as cloud_store
from daemon.storage import jobs as job_store

logger = logging.getLogger(__name__)

BackendFactory = Callable[[], RenderBackend]
#: Preemptions counted over this window for the autoscaler's rate.
PREEMPTION_WINDOW_S = 3600.0


class BurstService:
    """The cloud pool and the routes of jobs. ``run_pass`` runs on one thread at a time."""

    def __init__(
        self,
        context: Context,
        enrollment: EnrollmentService,
        projects: ProjectService,
        backend: BackendFactory | None = None,
    ) -> None:
        self.ctx = context
        self.enrollment = enrollment
        self.projects = projects
        self.books = CloudBooks(context)
        self._make_backend = backend
        self._backend: RenderBackend | None = None
        self._lock = threading.Lock()
        self._pass_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def enabled(self) -> bool:
        """Whether a backend bursts (routes then govern what cloud nodes take)."""
        return self._make_backend is not None or self.settings.cloud.backend != "none"

    @property
    def backend(self) -> RenderBackend:
        with self._lock:
            if self._backend is None:
                self._backend = (
                    self._make_backend() if self._make_backend else self._configured_backend()
                )
            return self._backend

    def close(self) -> None:
        """Stops the backend's local resources (a simulated cloud's processes)."""
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    # --- the pass ----------------------------------------------------------------------------

    def run_pass(self) -> list[routing.RouteDecision]:
        """Syncs nodes, routes the queue, sizes the pool. Returns this pass's routes."""
        if not self.enabled or not self._pass_lock.acquire(blocking=False):
            return []
        try:
            now = self.ctx.now()
            nodes = self._sync_nodes()
            decisions, jobs = self._route(now)
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

    def _sync_nodes(self) -> list[CloudNode]:
        """Reads the backend's nodes back; sweeps the unhealthy and the unknown ones."""
        backend = self.backend
        every = backend.describe()
        # A backend that remembers its ended nodes (the simulated cloud) says how they ended.
        history = getattr(backend, "nodes", None)
        if callable(history):
            every = history()
        now = self.ctx.now()
        rows = {row["id"]: row for row in cloud_store.list_nodes(self.ctx.database.db)}
        live_ids = {n.id for n in every if n.state is not NodeState.TERMINATED}
        with self.ctx.database.transaction() as db:
            for node in every:
                if node.id in rows:  # nodes the daemon did not launch are not adopted
                    cloud_store.upsert_node(db, _node_row(node))
            for node_id, row in rows.items():
                if row["state"] != "terminated" and node_id not in live_ids:
                    cloud_store.mark_terminated(db, node_id, now)  # gone without a word
        live = [n for n in every if n.state is not NodeState.TERMINATED]
        known = {
            node_id: sweeper.NodeActivity(last_heartbeat=row["last_seen"])
            for node_id, row in rows.items()
        }
        policy = sweeper.SweepPolicy.from_settings(self.settings.cloud)
        doomed = sweeper.decide(live, known, policy, now)  # idle nodes: the autoscaler's call
        if doomed:
            for item in doomed:
                logger.warning("cloud: releasing node %s: %s", item.node.name, item.detail)
            released = sweeper.apply(backend, doomed)
            with self.ctx.database.transaction() as db:
                cloud_store.mark_releasing(db, released)
        gone = {item.node.id for item in doomed}
        return [n for n in live if n.id in rows and n.id not in gone]

    def _policy(self) -> routing.RoutingPolicy:
        return routing.RoutingPolicy(default_frame_s=self.settings.ranking.default_frame_s)

    def _route(self, now: float) -> tuple[list[routing.RouteDecision], dict[int, routing.JobFacts]]:
        """Routes the queue: each unfinished job's decision, and the facts it was made on."""
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
                )
            )
        farm = routing.FarmFacts(slots=max(0, cloud_store.local_slots(db)))
        budgets = self.books.show_budgets(db, now)
        decisions = routing.route_queue(facts, farm, budgets, policy, now)
        return decisions, {f.job_id: f for f in facts}

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
                     d.reason, now)
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
        released = self.backend.release(plan.release) if plan.release else []
        with self.ctx.database.transaction() as tx:
            cloud_store.mark_releasing(tx, released)
            cloud_store.set_draining(tx, plan.drain)
            cloud_store.save_cloud_state(tx, plan.spike, now, list(plan.reasons))
        launched = self._launch(plan.launch_preemptible, True)
        launched += self._launch(plan.launch_on_demand, False)
        if launched or released:
            logger.info(
                "cloud pool: launched %d, released %d (%s)",
                len(launched), len(released), "; ".join(plan.reasons),
            )  # fmt: skip
        return plan

    def _launch(self, count: int, preemptible: bool | None, shape: str | None = None) -> list[str]:
        if count <= 0:
            return []
        tokens = tuple(self.enrollment.mint("cloudburst-autoscaler").token for _ in range(count))
        request = ProvisionRequest(
            count=count, pool=self.settings.cloud.pool, enrollment_tokens=tokens,
            preemptible=preemptible, shape=shape,
        )  # fmt: skip
        result = self.backend.provision(request)
        if result.problem is not None:
            logger.warning("cloud: %d of %d node(s) launched: %s", len(result.nodes), count,
                           result.message)  # fmt: skip
        with self.ctx.database.transaction() as db:
            for node in result.nodes:
                cloud_store.upsert_node(db, _node_row(node))
        return [node.id for node in result.nodes]

    # --- facts ---------------------------------------------------------------------------------

    def _scale_policy(self, min_nodes: int | None = None) -> autoscale.ScalePolicy:
        cloud = self.settings.cloud
        backend = cloud.simcloud if cloud.backend == "simcloud" else cloud.oci
        boot = cloud.simcloud.boot_delay_s if cloud.backend == "simcloud" else 180.0
        return autoscale.ScalePolicy(
            min_nodes=min_nodes or 0, max_nodes=backend.max_nodes,
            idle_release_s=cloud.idle_timeout_s, boot_s=boot,
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

    # --- agents' side (inside the agent service's transactions) -------------------------------

    def lease_limits(
        self, db: sqlite_utils.Database, agent: dict[str, Any], job_id: int
    ) -> int | None:
        """How many frames a cloud agent may take of this job now (0: none); None: no limit."""
        if not self.enabled:
            return None
        if cloud_store.node_draining(db, agent["name"]):
            return 0
        route = cloud_store.route_of(db, job_id)
        if route is None or route["verdict"] != routing.Verdict.BURST.value:
            return 0
        # The quota counts frames the cloud holds now and those it finished since the decision,
        # so fast frames cannot take more than routing allowed before the next pass.
        held = cloud_store.cloud_in_flight(db, job_id)
        held += cloud_store.cloud_done_since(db, job_id, route["decided_at"])
        room = route["cloud_quota"] - held
        return max(0, min(room, route["cloud_chunk"]))

    # --- reading and by hand -------------------------------------------------------------------

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

    def resources(self) -> list[Resource]:
        """Every node: the agents (local, or cloud ones started by hand) and the cloud pool's."""
        db = self.ctx.database.db
        nodes = {row["name"]: row for row in cloud_store.list_nodes(db, live_only=True)}
        listed = [
            Resource(
                id=row["id"], kind="local" if row["studio_access"] else "cloud",
                name=row["name"], state=row["state"], pool=row["pool"], cpus=row["cores"],
                memory_gb=round(row["memory_mb"] / 1024, 1),
                disk_free_gb=None if row["disk_free_mb"] is None
                else round(row["disk_free_mb"] / 1024, 1),
                cpu_percent=row["cpu_percent"], running_tasks=row["running_tasks"],
                launched_at=to_datetime(row["registered_at"]),
            )
            for row in cloud_store.agents_for_resources(db)
            if row["studio_access"] or row["name"] not in nodes
        ]  # fmt: skip
        return listed + self.cloud_resources()

    def cloud_resources(self) -> list[Resource]:
        cloud = self.settings.cloud
        sim = cloud.backend == "simcloud"
        shape = cloud.simcloud if sim else cloud.oci
        return [
            Resource(
                id=row["id"],
                kind="cloud",
                name=row["name"],
                state=row["state"],
                pool=cloud.pool,
                cpus=shape.ocpus or 0,
                gpus=shape.gpus,
                memory_gb=shape.memory_gb or 0,
                running_tasks=row["busy"] or 0,
                shape=row["shape"],
                preemptible=bool(row["preemptible"]),
                price_per_hour=row["price_per_hour"],
                cost=row["cost"],
                launched_at=to_optional_datetime(row["launched_at"]),
                detail=row["detail"],
            )
            for row in cloud_store.list_nodes(self.ctx.database.db)
        ]

    def scale(self, request: ScaleRequest) -> ScaleResult:
        """Sets the pool by hand (admins): a floor of ``count`` nodes, or none."""
        if not self.enabled:
            raise ConfigError('Cloud bursting is off: set [cloud] backend to "oci" or "simcloud".')
        db = self.ctx.database.db
        live = [r for r in cloud_store.list_nodes(db, live_only=True)]
        if request.state == "released" or request.count == 0:
            with self.ctx.database.transaction() as tx:
                cloud_store.set_min_nodes(tx, None)
                idle = [r["id"] for r in live if not r["busy"]]
                cloud_store.set_draining(tx, [r["id"] for r in live if r["busy"]])
            released = self.backend.release(idle) if idle else []
            with self.ctx.database.transaction() as tx:
                cloud_store.mark_releasing(tx, released)
            return ScaleResult(
                launched=[], released=released,
                message=f"Released {len(released)} idle node(s); busy ones go after their task.",
            )  # fmt: skip
        with self.ctx.database.transaction() as tx:
            cloud_store.set_min_nodes(tx, request.count)
        missing = max(0, request.count - len(live))
        launched = self._launch(missing, request.preemptible, request.shape)
        return ScaleResult(
            launched=launched, released=[],
            message=f"The pool keeps at least {request.count} node(s); {len(launched)} launched.",
        )  # fmt: skip

    # --- helpers -------------------------------------------------------------------------------

    def _configured_backend(self) -> RenderBackend:
        from daemon.backends.registry import get_backend

        settings = self.settings
        cloud = settings.cloud
        if cloud.backend == "simcloud":
            store = settings.store.model_dump(mode="json") if settings.store else {}
            if settings.store and settings.store.secret_access_key:
                store["secret_access_key"] = settings.store.secret_access_key.get_secret_value()
            return get_backend(
                "simcloud", cloud, daemon_url=cloud.node_daemon_url or _url_of(settings.bind),
                data_root=settings.data_dir / "simcloud",
                store={k: None if v is None else str(v) for k, v in store.items()},
                extra_env={"CLOUDBURST_LOG_LEVEL": settings.log_level},
            )  # fmt: skip
        if cloud.backend == "oci":
            from daemon.backends.cloud_init import AgentBootstrap

            if settings.store is None:
                raise ConfigError("Bursting to OCI needs the [store] table (the object store).")
            bootstrap = AgentBootstrap.from_settings(
                cloud, daemon_url=settings.daemon_url, store=settings.store
            )
            return get_backend("oci", cloud, bootstrap=bootstrap)
        return get_backend(cloud.backend, cloud)


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


def _url_of(bind: str) -> str:
    """The daemon's URL on this machine, from where it listens (simulated nodes run here)."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def _node_row(node: CloudNode) -> dict[str, Any]:
    return {
        "id": node.id, "backend": node.backend, "name": node.name, "state": node.state.value,
        "preemptible": int(node.preemptible), "shape": node.shape,
        "price_per_hour": node.price_per_hour, "launched_at": node.launched_at,
        "ended_at": node.ended_at, "cost": node.cost, "detail": node.detail,
    }  # fmt: skip
