"""The cloud pool: the backend's nodes as the daemon knows them.

``CloudPool`` holds the configured backend (built by ``daemon.backends.registry`` from the
settings, or given by tests), reads its nodes back into the ``cloud_nodes`` table, sweeps the
unhealthy and the unknown ones, launches nodes (each with its own one-time enrollment token) and
releases them. It decides nothing about how many: the burst pass and the admins' manual scale do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from typing import Any

from common.config import Settings
from daemon.backends import sweeper
from daemon.backends.base import (
    CloudNode,
    NodeProfile,
    NodeState,
    ProvisionRequest,
    RenderBackend,
    nodes_of,
)
from daemon.backends.registry import configured_backend, node_profile
from daemon.context import Context
from daemon.scheduling.routing import CloudShape
from daemon.services.enrollment import EnrollmentService
from daemon.storage import cloud as cloud_store

logger = logging.getLogger(__name__)

BackendFactory = Callable[[], RenderBackend]


class CloudPool:
    """The nodes of the cloud backend. Thread-safe; the backend is built on first use."""

    def __init__(
        self,
        context: Context,
        enrollment: EnrollmentService,
        backend: BackendFactory | None = None,
    ) -> None:
        self.ctx = context
        self.enrollment = enrollment
        self._make_backend = backend
        self._backend: RenderBackend | None = None
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def enabled(self) -> bool:
        """Whether a backend bursts (routes then govern what cloud nodes take)."""
        return self._make_backend is not None or self.settings.cloud.backend != "none"

    @property
    def profile(self) -> NodeProfile:
        """What the configured backend's nodes are like (size, most nodes, boot time)."""
        return node_profile(self.settings.cloud)

    @property
    def shape(self) -> CloudShape:
        """What every node the pool launches has, as routing and the node check match it."""
        profile = self.profile
        return CloudShape(
            name=profile.shape or "of this backend", gpus=profile.gpus,
            memory_mb=int(profile.memory_gb * 1024), pool=self.settings.cloud.pool,
        )  # fmt: skip

    @property
    def backend(self) -> RenderBackend:
        with self._lock:
            if self._backend is None:
                make = self._make_backend
                self._backend = make() if make else configured_backend(self.settings)
            return self._backend

    def close(self) -> None:
        """Stops the backend's local resources (a simulated cloud's processes)."""
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    def sync(self) -> list[CloudNode]:
        """Reads the backend's nodes back; sweeps the unhealthy and the unknown ones.

        Returns the live nodes the daemon launched, less those just swept.
        """
        backend = self.backend
        every = nodes_of(backend)  # a backend that remembers ended nodes says how they ended
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

    def launch(self, count: int, preemptible: bool | None, shape: str | None = None) -> list[str]:
        """Launches up to ``count`` nodes, each with its own enrollment token; their ids."""
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

    def release(self, node_ids: Collection[str]) -> list[str]:
        """Releases the nodes and marks them releasing; the ids being stopped."""
        if not node_ids:
            return []
        released = self.backend.release(node_ids)
        with self.ctx.database.transaction() as db:
            cloud_store.mark_releasing(db, released)
        return released


def _node_row(node: CloudNode) -> dict[str, Any]:
    return {
        "id": node.id, "backend": node.backend, "name": node.name, "state": node.state.value,
        "preemptible": int(node.preemptible), "shape": node.shape,
        "price_per_hour": node.price_per_hour, "launched_at": node.launched_at,
        "ended_at": node.ended_at, "cost": node.cost, "detail": node.detail,
    }  # fmt: skip
