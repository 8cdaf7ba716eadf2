"""The ``local`` backend: the studio's own render nodes, the agents that see studio storage.

The on-prem farm is not provisioned from here (IT runs its agents as services), so this backend
only describes it: each agent with studio access is a node, ``running`` while online. Asking it
for nodes launches none and says why; releasing is refused for the same reason. It gives the
rest of the daemon one way to look at every node, whatever runs it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from daemon.backends.base import (
    Capacity,
    CloudNode,
    NodeState,
    ProvisionProblem,
    ProvisionRequest,
    ProvisionResult,
)

AgentRows = Callable[[], Iterable[Mapping[str, Any]]]
"""The agents table's rows (``id``, ``name``, ``pool``, ``state``, ``cores``, ``memory_mb``,
``studio_access``, ``registered_at``, ``dccs``)."""


class LocalFarm:
    """The on-prem agents as a ``RenderBackend`` that can describe, not launch."""

    name = "local"

    def __init__(self, agents: AgentRows) -> None:
        self._agents = agents

    def describe(self) -> list[CloudNode]:
        nodes = []
        for row in self._agents():
            if not row["studio_access"]:
                continue
            online = row["state"] == "online"
            nodes.append(
                CloudNode(
                    id=row["id"], backend=self.name, name=row["name"],
                    state=NodeState.RUNNING if online else NodeState.TERMINATED,
                    pool=row["pool"], preemptible=False, shape="on-prem",
                    ocpus=float(row["cores"]), memory_gb=row["memory_mb"] / 1024, gpus=0,
                    price_per_hour=0.0, launched_at=row["registered_at"],
                    detail="" if online else "offline",
                    tags={"dccs": ",".join(json.loads(row.get("dccs") or "[]"))},
                )
            )  # fmt: skip
        return [node for node in nodes if node.state is NodeState.RUNNING]

    def capacity(self) -> Capacity:
        running = len(self.describe())
        return Capacity(running=running, provisioning=0, max=running)

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        return ProvisionResult(
            requested=request.count,
            problem=ProvisionProblem.AT_MAX_NODES if request.count else None,
            message="The local farm grows by starting agents on studio machines, not from here.",
        )

    def release(self, node_ids: Collection[str]) -> list[str]:
        return []  # on-prem agents are stopped by IT, never by the autoscaler

    def close(self) -> None:
        return None
