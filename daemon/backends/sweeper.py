"""Which cloud nodes to terminate, and terminating them.

``decide`` is pure (``now`` is an argument): given the backend's nodes and what the daemon
knows of each, it picks the nodes that cost money for nothing --

* **idle**: its agent has held no task for longer than the idle timeout;
* **unhealthy**: past its boot grace, its agent never sent a heartbeat, or has been silent
  longer than the heartbeat timeout;
* **unknown**: tagged as ours but not in the daemon's node list (a launch whose answer was
  lost, a daemon restored from an old backup), once older than a grace that covers the time
  between a launch and the daemon recording it.

``sweep`` asks the backend for its nodes, decides, and releases the doomed ones.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from common.cloud_settings import CloudSettings
from daemon.backends.base import CloudNode, NodeState, RenderBackend

logger = logging.getLogger(__name__)


class SweepReason(enum.StrEnum):
    """Why a node is terminated."""

    IDLE = "idle"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class NodeActivity:
    """What the daemon knows of the agent on one of its cloud nodes."""

    last_heartbeat: float | None = None
    """The agent's latest heartbeat (seconds since the epoch); None: never heard from."""
    idle_since: float | None = None
    """Since when the agent holds no task; None: it is working (or was never idle)."""


@dataclass(frozen=True)
class SweepPolicy:
    """The timeouts of the sweep, in seconds."""

    idle_timeout_s: float = 600.0
    boot_grace_s: float = 900.0
    heartbeat_timeout_s: float = 180.0
    unknown_grace_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: CloudSettings) -> SweepPolicy:
        return cls(
            idle_timeout_s=settings.idle_timeout_s,
            boot_grace_s=settings.boot_grace_s,
            heartbeat_timeout_s=settings.heartbeat_timeout_s,
            unknown_grace_s=settings.unknown_grace_s,
        )


@dataclass(frozen=True)
class Doomed:
    """A node to terminate, and why."""

    node: CloudNode
    reason: SweepReason
    detail: str


@dataclass(frozen=True)
class SweepReport:
    """What a sweep decided and what the backend accepted."""

    doomed: tuple[Doomed, ...]
    released: tuple[str, ...]


def decide(
    nodes: Iterable[CloudNode],
    known: Mapping[str, NodeActivity],
    policy: SweepPolicy,
    now: float,
) -> list[Doomed]:
    """The nodes to terminate, in the order given.

    Args:
        nodes: the backend's nodes (``describe``); terminating and terminated ones are skipped.
        known: the daemon's cloud nodes, by node id, with their agents' activity.
        policy: the timeouts.
        now: the current time (seconds since the epoch).
    """
    doomed: list[Doomed] = []
    for node in nodes:
        if node.state in (NodeState.TERMINATING, NodeState.TERMINATED):
            continue
        age = now - node.launched_at
        activity = known.get(node.id)
        if activity is None:
            if age > policy.unknown_grace_s:
                doomed.append(
                    Doomed(
                        node,
                        SweepReason.UNKNOWN,
                        f"tagged ours but unknown to the daemon for {age:.0f} s",
                    )
                )
            continue
        if age > policy.boot_grace_s:
            if activity.last_heartbeat is None:
                doomed.append(
                    Doomed(node, SweepReason.UNHEALTHY, f"no heartbeat {age:.0f} s after launch")
                )
                continue
            silent = now - activity.last_heartbeat
            if silent > policy.heartbeat_timeout_s:
                doomed.append(
                    Doomed(node, SweepReason.UNHEALTHY, f"no heartbeat for {silent:.0f} s")
                )
                continue
        if activity.idle_since is not None:
            idle = now - activity.idle_since
            if idle > policy.idle_timeout_s:
                doomed.append(Doomed(node, SweepReason.IDLE, f"idle for {idle:.0f} s"))
    return doomed


def apply(backend: RenderBackend, doomed: Iterable[Doomed]) -> list[str]:
    """Releases the doomed nodes through ``backend``; returns the ids it is stopping."""
    doomed = list(doomed)
    for item in doomed:
        logger.info(
            "sweeping node %s (%s): %s, %s",
            item.node.name,
            item.node.id,
            item.reason.value,
            item.detail,
        )
    if not doomed:
        return []
    return backend.release([item.node.id for item in doomed])


def sweep(
    backend: RenderBackend,
    known: Mapping[str, NodeActivity],
    policy: SweepPolicy,
    now: float,
) -> SweepReport:
    """Describes the backend's nodes, decides which to terminate, and releases them."""
    doomed = decide(backend.describe(), known, policy, now)
    released = apply(backend, doomed)
    return SweepReport(tuple(doomed), tuple(released))
