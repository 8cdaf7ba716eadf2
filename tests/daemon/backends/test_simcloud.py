"""``SimCloud`` with a stand-in agent: real processes, booted, billed, preempted and stopped.

The stand-in behaves as the agent does on SIGTERM (notes that it reports its task as
preempted, then exits) unless told to ignore SIGTERM, starts a child process in its group (as a
render would run), and writes its ``CLOUDBURST_*`` environment to its folder. The full agent
against a real daemon is the end-to-end tests' business.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.backends import NodeState, ProvisionProblem, ProvisionRequest, SimCloudSettings
from daemon.backends.simcloud import SimCloud, billed_cost
from tests.conftest import FakeClock
from tests.waiting import gone, wait_until

STAND_IN = """\
import json, os, signal, subprocess, sys, time
from pathlib import Path

here = Path.cwd()

def note(text):
    with open(here / "events", "a") as events:
        events.write(text + "\\n")

def on_term(signum, frame):
    note("sigterm")
    if os.environ.get("STANDIN_IGNORE_TERM") != "1":
        note("stopping: running task reported as preempted")
        sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
(here / "child.pid").write_text(str(child.pid))
(here / "env.json").write_text(json.dumps(
    {k: v for k, v in os.environ.items() if k.startswith(("CLOUDBURST_", "STANDIN_"))}
))
note("started")
while True:
    time.sleep(0.02)
"""

STORE = {
    "kind": "s3",
    "endpoint": "http://127.0.0.1:8333",
    "bucket": "renders",
    "prefix": "farm/",
    "access_key_id": "sim-key",
    "secret_access_key": "sim-secret",
    "region": None,
}
REPORTED = "stopping: running task reported as preempted"
TIMEOUT = 20.0
ENDED = (NodeState.TERMINATED,)


def started(cloud: SimCloud, node_id: str) -> Path:
    """The node's folder, once its stand-in agent runs and has written what it writes."""
    assert cloud.wait_for(node_id, (NodeState.RUNNING,), TIMEOUT) is not None
    (node,) = [n for n in cloud.nodes() if n.id == node_id]
    folder = cloud.data_root / node.name
    wait_until(lambda: "started" in events(folder))
    return folder


def events(folder: Path) -> list[str]:
    path = folder / "events"
    return path.read_text().splitlines() if path.exists() else []


def request(count: int, **values: Any) -> ProvisionRequest:
    tokens = tuple(f"cbe_token-{i}" for i in range(count))
    return ProvisionRequest(count=count, pool="cloud", enrollment_tokens=tokens, **values)


@pytest.fixture
def make_cloud(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., SimCloud]]:
    made: list[SimCloud] = []

    def make(
        *, ignore_term: bool = False, command: list[str] | None = None, **values: Any
    ) -> SimCloud:
        settings = SimCloudSettings(
            **{"boot_delay_s": 0.0, "stop_grace_s": 5.0, "preemption_grace_s": 5.0, **values}
        )
        cloud = SimCloud(
            settings,
            daemon_url="http://10.9.8.7:8642",
            data_root=tmp_path / f"cloud{len(made)}",
            farm="sim",
            store=STORE,
            extra_env={"STANDIN_IGNORE_TERM": "1" if ignore_term else "0"},
            agent_command=command or [sys.executable, "-c", STAND_IN],
            clock=clock,
            rng=random.Random(7),
        )
        made.append(cloud)
        return cloud

    yield make
    for cloud in made:
        cloud.close()


def test_nodes_boot_with_a_cloud_nodes_environment_and_stop_when_released(
    make_cloud: Callable[..., SimCloud], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDBURST_TOKEN", "the-studio-users-token")
    monkeypatch.setenv("CLOUDBURST_BLENDER", "/studio/blender")
    cloud = make_cloud(boot_delay_s=0.2)
    result = cloud.provision(request(2))
    assert result.problem is None
    assert [n.state for n in result.nodes] == [NodeState.PROVISIONING] * 2
    one, two = result.nodes

    folders = [started(cloud, one.id), started(cloud, two.id)]
    assert cloud.capacity().running == 2
    env = json.loads((folders[0] / "env.json").read_text())
    assert env == {
        "CLOUDBURST_CONFIG": str(folders[0] / "config.toml"),
        "CLOUDBURST_DAEMON_URL": "http://10.9.8.7:8642",
        "CLOUDBURST_ENROLLMENT_TOKEN": "cbe_token-0",
        "CLOUDBURST_AGENT_POOL": "cloud",
        "CLOUDBURST_AGENT_NAME": one.name,
        "CLOUDBURST_STUDIO_ACCESS": "false",
        "CLOUDBURST_DATA_DIR": str(folders[0] / "data"),
        "CLOUDBURST_STORE__KIND": "s3",
        "CLOUDBURST_STORE__ENDPOINT": "http://127.0.0.1:8333",
        "CLOUDBURST_STORE__BUCKET": "renders",
        "CLOUDBURST_STORE__PREFIX": "farm/",
        "CLOUDBURST_STORE__ACCESS_KEY_ID": "sim-key",
        "CLOUDBURST_STORE__SECRET_ACCESS_KEY": "sim-secret",
        "STANDIN_IGNORE_TERM": "0",
    }
    assert (folders[0] / "config.toml").read_text().startswith("#")  # empty: no studio file
    assert json.loads((folders[1] / "env.json").read_text())["CLOUDBURST_ENROLLMENT_TOKEN"] == (
        "cbe_token-1"
    )
    assert one.name.startswith("sim-cloud-") and one.tags["cloudburst-node"] == one.name

    agent, child = cloud.pid(one.id), int((folders[0] / "child.pid").read_text())
    assert agent is not None
    assert cloud.release([one.id, "sim-unknown"]) == [one.id]
    ended = cloud.wait_for(one.id, ENDED, TIMEOUT)
    assert ended is not None and ended.detail == "released"
    assert events(folders[0]) == ["started", "sigterm", REPORTED]
    wait_until(lambda: gone(agent) and gone(child))
    assert [n.id for n in cloud.describe()] == [two.id]

    cloud.close()
    assert cloud.describe() == []
    agent_two = cloud.pid(two.id)
    assert agent_two is not None and gone(agent_two)
    wait_until(lambda: gone(int((folders[1] / "child.pid").read_text())))


@pytest.mark.parametrize(
    ("start", "end", "price", "minimum", "cost"),
    [
        (0.0, 0.0, 3.6, 60.0, 0.06),  # the minimum
        (0.0, 59.5, 3.6, 60.0, 0.06),
        (0.0, 60.2, 3.6, 60.0, 0.061),  # whole seconds, rounded up
        (100.0, 3700.0, 3.6, 0.0, 3.6),
        (0.0, 1.0, 0.0, 60.0, 0.0),
        (10.0, 5.0, 1.0, 0.0, 0.0),  # a clock going back bills nothing
    ],
)
def test_billed_cost(start: float, end: float, price: float, minimum: float, cost: float) -> None:
    assert billed_cost(start, end, price, minimum) == pytest.approx(cost)


def test_nodes_are_billed_per_second_from_request_until_their_process_is_gone(
    make_cloud: Callable[..., SimCloud], clock: FakeClock
) -> None:
    cloud = make_cloud(
        preemptible_price_per_hour=0.36, on_demand_price_per_hour=1.8, minimum_billed_s=60
    )
    cheap = cloud.provision(request(1)).nodes[0]
    dear = cloud.provision(request(1, preemptible=False)).nodes[0]
    assert (cheap.preemptible, cheap.price_per_hour) == (True, 0.36)
    assert (dear.preemptible, dear.price_per_hour) == (False, 1.8)
    started(cloud, cheap.id)
    started(cloud, dear.id)

    def cost(node_id: str) -> float:
        return next(n.cost for n in cloud.nodes() if n.id == node_id)

    assert cost(cheap.id) == pytest.approx(60 * 0.0001)  # the minute's minimum
    clock.advance(125.3)
    assert cost(cheap.id) == pytest.approx(126 * 0.0001)
    assert cost(dear.id) == pytest.approx(126 * 0.0005)

    cloud.release([cheap.id])
    assert cloud.wait_for(cheap.id, ENDED, TIMEOUT) is not None
    clock.advance(1000)
    assert cost(cheap.id) == pytest.approx(126 * 0.0001)  # billing stopped with the process
    assert cost(dear.id) == pytest.approx(1126 * 0.0005)
    assert cloud.total_cost() == pytest.approx(126 * 0.0001 + 1126 * 0.0005)


def test_a_node_released_while_booting_never_starts_and_costs_the_minimum(
    make_cloud: Callable[..., SimCloud], clock: FakeClock
) -> None:
    cloud = make_cloud(boot_delay_s=30, preemptible_price_per_hour=3.6, minimum_billed_s=60)
    (node,) = cloud.provision(request(1)).nodes
    clock.advance(10)
    assert cloud.release([node.id]) == [node.id]
    (ended,) = cloud.nodes()
    assert ended.state is NodeState.TERMINATED and ended.ended_at == clock.now
    assert ended.cost == pytest.approx(0.06)
    assert cloud.pid(node.id) is None


def test_preemption_stops_the_agent_gracefully(
    make_cloud: Callable[..., SimCloud],
) -> None:
    cloud = make_cloud()
    (node,) = cloud.provision(request(1)).nodes
    folder = started(cloud, node.id)

    assert cloud.preempt(node.id)
    ended = cloud.wait_for(node.id, ENDED, TIMEOUT)
    assert ended is not None and ended.detail == "preempted" and ended.ended_at is not None
    assert events(folder) == ["started", "sigterm", REPORTED]
    assert not cloud.preempt(node.id)  # already gone
    child = int((folder / "child.pid").read_text())
    wait_until(lambda: gone(child))


def test_an_agent_ignoring_sigterm_is_killed_after_the_grace(
    make_cloud: Callable[..., SimCloud],
) -> None:
    cloud = make_cloud(ignore_term=True, preemption_grace_s=0.3)
    (node,) = cloud.provision(request(1)).nodes
    folder = started(cloud, node.id)
    pid = cloud.pid(node.id)
    assert pid is not None

    assert cloud.preempt(node.id)
    ended = cloud.wait_for(node.id, ENDED, TIMEOUT)
    assert ended is not None and ended.detail == "preempted"
    assert events(folder) == ["started", "sigterm"]
    child = int((folder / "child.pid").read_text())
    wait_until(lambda: gone(pid) and gone(child))


def test_random_preemptions_take_only_preemptible_nodes(
    make_cloud: Callable[..., SimCloud],
) -> None:
    cloud = make_cloud(preemption_rate_per_hour=360_000.0)  # one every 10 ms on average
    kept = cloud.provision(request(1, preemptible=False)).nodes[0]
    taken = cloud.provision(request(1)).nodes[0]
    ended = cloud.wait_for(taken.id, ENDED, TIMEOUT)
    assert ended is not None and ended.detail == "preempted"
    now = {n.id: n for n in cloud.nodes()}
    assert now[kept.id].state in (NodeState.PROVISIONING, NodeState.RUNNING)


def test_max_nodes_caps_a_request(make_cloud: Callable[..., SimCloud]) -> None:
    cloud = make_cloud(max_nodes=1, boot_delay_s=30)
    result = cloud.provision(request(2))
    assert len(result.nodes) == 1 and result.problem is ProvisionProblem.AT_MAX_NODES
    assert cloud.capacity().provisioning == 1 and cloud.capacity().available == 0


def test_an_agent_that_cannot_start_ends_its_node(make_cloud: Callable[..., SimCloud]) -> None:
    cloud = make_cloud(command=["/nonexistent/cloudburst-agent"])
    (node,) = cloud.provision(request(1)).nodes
    ended = cloud.wait_for(node.id, ENDED, TIMEOUT)
    assert ended is not None and ended.detail.startswith("failed to start")


def test_close_leaves_no_process_behind(make_cloud: Callable[..., SimCloud]) -> None:
    cloud = make_cloud(ignore_term=True, stop_grace_s=0.3)
    running = cloud.provision(request(2)).nodes
    folders = [started(cloud, node.id) for node in running]
    pids = [cloud.pid(node.id) for node in running]
    children = [int((folder / "child.pid").read_text()) for folder in folders]
    slow = make_cloud(boot_delay_s=30)
    (booting,) = slow.provision(request(1)).nodes

    cloud.close()
    slow.close()
    assert all(pid is not None and gone(pid) for pid in pids)
    wait_until(lambda: all(gone(child) for child in children))
    assert {n.state for n in cloud.nodes()} == {NodeState.TERMINATED}
    assert slow.nodes()[0].state is NodeState.TERMINATED and slow.pid(booting.id) is None
    with pytest.raises(Exception, match="closed"):
        cloud.provision(request(1))
