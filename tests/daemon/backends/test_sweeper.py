"""The sweep: which of our cloud nodes cost money for nothing, and terminating them."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from common.cloud_settings import CloudSettings
from daemon.backends import Capacity, CloudNode, NodeState, ProvisionRequest, ProvisionResult
from daemon.backends.sweeper import NodeActivity, SweepPolicy, SweepReason, decide, sweep

NOW = 1_800_000_000.0
POLICY = SweepPolicy(
    idle_timeout_s=600, boot_grace_s=900, heartbeat_timeout_s=180, unknown_grace_s=300
)


def node(node_id: str, age: float, state: NodeState = NodeState.RUNNING) -> CloudNode:
    return CloudNode(
        id=node_id,
        backend="test",
        name=f"farm-cloud-{node_id}",
        state=state,
        pool="cloud",
        preemptible=True,
        shape="VM",
        ocpus=1,
        memory_gb=1,
        gpus=0,
        price_per_hour=0.1,
        launched_at=NOW - age,
    )


@pytest.mark.parametrize(
    ("age", "activity", "expected"),
    [
        # unknown to the daemon: spared while it may not be recorded yet
        (200, None, None),
        (400, None, SweepReason.UNKNOWN),
        # booting: no heartbeat yet is fine within the boot grace
        (800, NodeActivity(), None),
        (1000, NodeActivity(), SweepReason.UNHEALTHY),
        (1000, NodeActivity(last_heartbeat=NOW - 170), None),
        (1000, NodeActivity(last_heartbeat=NOW - 200), SweepReason.UNHEALTHY),
        # silent during boot grace is not judged yet
        (800, NodeActivity(last_heartbeat=NOW - 700), None),
        # idle
        (5000, NodeActivity(last_heartbeat=NOW - 5, idle_since=NOW - 599), None),
        (5000, NodeActivity(last_heartbeat=NOW - 5, idle_since=NOW - 601), SweepReason.IDLE),
        (700, NodeActivity(last_heartbeat=NOW - 5, idle_since=NOW - 650), SweepReason.IDLE),
        # working
        (5000, NodeActivity(last_heartbeat=NOW - 5, idle_since=None), None),
    ],
)
def test_decide(age: float, activity: NodeActivity | None, expected: SweepReason | None) -> None:
    known = {} if activity is None else {"n1": activity}
    doomed = decide([node("n1", age)], known, POLICY, NOW)
    assert [d.reason for d in doomed] == ([] if expected is None else [expected])


def test_nodes_already_going_are_left_alone() -> None:
    nodes = [node("a", 9999, NodeState.TERMINATING), node("b", 9999, NodeState.TERMINATED)]
    assert decide(nodes, {}, POLICY, NOW) == []


def test_the_policy_comes_from_the_settings() -> None:
    settings = CloudSettings(
        idle_timeout_s=60, boot_grace_s=120, heartbeat_timeout_s=30, unknown_grace_s=90
    )
    assert SweepPolicy.from_settings(settings) == SweepPolicy(60, 120, 30, 90)


class Recording:
    """A backend whose nodes are given and whose releases are noted."""

    name = "recording"

    def __init__(self, nodes: list[CloudNode]) -> None:
        self.nodes = nodes
        self.released: list[list[str]] = []

    def capacity(self) -> Capacity:
        return Capacity(running=len(self.nodes), provisioning=0, max=10)

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        raise AssertionError("a sweep never provisions")

    def release(self, node_ids: Collection[str]) -> list[str]:
        self.released.append(list(node_ids))
        return list(node_ids)

    def describe(self) -> list[CloudNode]:
        return list(self.nodes)

    def close(self) -> None:
        pass


def test_sweep_releases_the_doomed_nodes_in_one_call() -> None:
    backend = Recording([node("busy", 5000), node("idle", 5000), node("stray", 5000)])
    known = {
        "busy": NodeActivity(last_heartbeat=NOW - 1),
        "idle": NodeActivity(last_heartbeat=NOW - 1, idle_since=NOW - 3600),
    }
    report = sweep(backend, known, POLICY, NOW)
    assert [(d.node.id, d.reason) for d in report.doomed] == [
        ("idle", SweepReason.IDLE),
        ("stray", SweepReason.UNKNOWN),
    ]
    assert backend.released == [["idle", "stray"]]
    assert report.released == ("idle", "stray")

    backend.nodes = [node("busy", 5000)]
    assert sweep(backend, known, POLICY, NOW).released == ()
    assert len(backend.released) == 1  # nothing doomed: the backend is not asked
