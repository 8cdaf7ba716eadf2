"""What every backend speaks: the ``RenderBackend`` protocol and the values it passes around.

A backend is where frames run: OCI Compute, a simulated cloud of local agent processes, or
none. The daemon's autoscaler asks a backend for its ``capacity``, ``provision``s nodes (each
boots an agent that enrolls with a one-time token and joins a pool), ``release``s the nodes it no
longer needs and ``describe``s what exists, so the sweeper can terminate what nobody uses.
Backends never raise for the cloud saying no (out of capacity, a service limit, throttling):
``provision`` returns what it launched and why it fell short, so a launch that half worked is
never lost.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from common.errors import CloudburstError

#: Freeform tags every cloud resource of ours carries, so nothing is orphaned.
TAG_FARM = "cloudburst-farm"
TAG_POOL = "cloudburst-pool"
TAG_NODE = "cloudburst-node"
TAG_JOB_CLASS = "cloudburst-job-class"
TAG_SESSION = "cloudburst-session"
"""On a desktop instance (and its volumes and backups): the session it serves. An instance
with it is an artist's desktop, never a render node, whatever else it shares with them."""


class NodeState(enum.StrEnum):
    """Where a cloud node is in its life."""

    PROVISIONING = "provisioning"
    """Asked for and billed, not yet running its agent."""
    RUNNING = "running"
    """Booted; its agent runs (or should)."""
    TERMINATING = "terminating"
    """Being stopped: released, swept or preempted."""
    TERMINATED = "terminated"
    """Gone; no longer billed."""


class ProvisionProblem(enum.StrEnum):
    """Why a ``provision`` launched fewer nodes than asked."""

    AT_MAX_NODES = "at_max_nodes"
    """The backend's configured ``max_nodes`` is reached."""
    OUT_OF_CAPACITY = "out_of_capacity"
    """Every configured availability domain is out of host capacity for the shape."""
    LIMIT_EXCEEDED = "limit_exceeded"
    """A service limit or quota of the tenancy is reached; asking again will not help."""
    THROTTLED = "throttled"
    """The cloud kept answering "too many requests" after a bounded backoff."""
    ERROR = "error"
    """Any other refusal or failure; the message says which."""


class CloudError(CloudburstError):
    """The cloud failed or could not be reached; trying again later may work."""

    code = "cloud_error"
    status = 502
    retryable = True


@dataclass(frozen=True)
class ProvisionRequest:
    """Nodes to start: how many, of what kind, for which pool.

    ``enrollment_tokens`` holds one one-time token per node (the daemon mints them), the only
    secret a node receives; it is left out of ``repr`` so it never reaches a log.
    """

    count: int
    pool: str
    enrollment_tokens: tuple[str, ...] = field(repr=False)
    job_class: str = "default"
    """A label of the work the nodes are for (``cpu``, ``gpu``); tagged on each node."""
    shape: str | None = None
    """The backend's configured shape when None."""
    preemptible: bool | None = None
    """Preemptible (cheap, may be taken back) or on-demand; the backend's default when None."""

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError(f"count must be >= 0, not {self.count}")
        if len(self.enrollment_tokens) < self.count:
            raise ValueError(
                f"{self.count} nodes need {self.count} enrollment tokens, "
                f"got {len(self.enrollment_tokens)}"
            )


@dataclass(frozen=True)
class CloudNode:
    """One node of a backend, as it was when described."""

    id: str
    """The backend's id (an instance OCID, ``sim-...``)."""
    backend: str
    name: str
    """The node's name, which its agent registers with."""
    state: NodeState
    pool: str
    preemptible: bool
    shape: str
    ocpus: float
    memory_gb: float
    gpus: int
    price_per_hour: float
    launched_at: float
    """When it was asked for (seconds since the epoch): billing starts there."""
    cost: float = 0.0
    """Spent on it so far (an estimate from the price where the backend cannot know better)."""
    ended_at: float | None = None
    """When it stopped being billed, once terminated."""
    detail: str = ""
    """Why it is in its state, e.g. ``preempted``."""
    tags: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Capacity:
    """How many nodes a backend has and may have."""

    running: int
    provisioning: int
    max: int

    @property
    def available(self) -> int:
        """Nodes that may still be asked for."""
        return max(0, self.max - self.running - self.provisioning)


@dataclass(frozen=True)
class ProvisionResult:
    """What a ``provision`` did: the nodes launched and, when short, why."""

    requested: int
    nodes: tuple[CloudNode, ...] = ()
    problem: ProvisionProblem | None = None
    message: str = ""
    """A sentence for people: what happened and what to do."""

    @property
    def shortfall(self) -> int:
        """Nodes asked for and not launched."""
        return max(0, self.requested - len(self.nodes))


@runtime_checkable
class RenderBackend(Protocol):
    """Where frames run. Implementations are thread-safe."""

    name: str

    def capacity(self) -> Capacity:
        """Nodes running, starting, and the most allowed.

        Raises:
            CloudError: the cloud could not be asked.
            ConfigError: the cloud refused our credentials or settings.
        """
        ...

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        """Starts up to ``request.count`` nodes; returns at once, nodes boot on their own.

        Raises:
            CloudError: the cloud could not be asked (before anything was launched).
            ConfigError: the cloud refused our credentials or settings (nothing launched).
        """
        ...

    def release(self, node_ids: Collection[str]) -> list[str]:
        """Stops the nodes gracefully (their agents report running work as preempted).

        Ids that are not this backend's nodes are ignored. Returns the ids being stopped.
        """
        ...

    def describe(self) -> list[CloudNode]:
        """The backend's nodes that are not terminated, ours only (by tag)."""
        ...

    def close(self) -> None:
        """Lets go of the backend's resources (clients, threads; a simulated cloud's nodes)."""
        ...


@runtime_checkable
class KeepsEndedNodes(Protocol):
    """A capability: the backend also remembers its ended nodes and says how each ended.

    The simulated cloud declares it; the burst pass then learns why a node stopped (preempted,
    released) instead of only seeing it gone.
    """

    def nodes(self) -> list[CloudNode]:
        """Every node ever asked for, terminated ones included, with its cost so far."""
        ...


def nodes_of(backend: RenderBackend) -> list[CloudNode]:
    """The backend's nodes: every one it remembers where it can, else those not terminated."""
    if isinstance(backend, KeepsEndedNodes):
        return backend.nodes()
    return backend.describe()


@dataclass(frozen=True)
class NodeProfile:
    """What the configured backend's nodes are like, from its settings table.

    The autoscaler plans with ``max_nodes`` and ``boot_s``; ``/resources`` lists the size.
    """

    max_nodes: int
    boot_s: float
    """How long a node takes from being asked for to its agent running."""
    ocpus: float
    memory_gb: float
    gpus: int
    shape: str = ""
    """The shape's name (``VM.Standard.E5.Flex``), for the sentences that name it."""


def capacity_of(nodes: Collection[CloudNode], max_nodes: int) -> Capacity:
    """The ``Capacity`` of described nodes under a ``max_nodes`` cap."""
    return Capacity(
        running=sum(1 for n in nodes if n.state is NodeState.RUNNING),
        provisioning=sum(1 for n in nodes if n.state is NodeState.PROVISIONING),
        max=max_nodes,
    )
