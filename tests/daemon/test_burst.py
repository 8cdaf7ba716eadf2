"""The burst pass in the daemon: routes decide what cloud nodes take, the pool follows the
backlog, budgets stop new cloud work, preemptions spend no retries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from flask import Flask

from common.accounts import Role
from common.cloud_settings import CloudSettings
from common.config import RankingSettings, Settings
from common.models import (
    AgentRegistration,
    JobSpec,
    Placement,
    TaskDone,
    TaskFailure,
    TaskProgress,
)
from common.states import TaskState
from daemon.app import Services, create_app
from daemon.backends.base import (
    Capacity,
    CloudNode,
    NodeState,
    ProvisionRequest,
    ProvisionResult,
)
from daemon.storage import cloud as cloud_store
from daemon.storage import data as data_store
from tests.conftest import FakeClock, user_token
from tests.daemon.web.helpers import sign_in
from tests.serving import serve


class FakeCloud:
    """A backend that hands out nodes at once and remembers what it was asked."""

    name = "fake"

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.all: dict[str, CloudNode] = {}
        self.requests: list[ProvisionRequest] = []
        self.released: list[str] = []

    def capacity(self) -> Capacity:
        live = [n for n in self.all.values() if n.state is not NodeState.TERMINATED]
        return Capacity(running=len(live), provisioning=0, max=4)

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        self.requests.append(request)
        made = []
        for _ in range(request.count):
            name = f"sim-{len(self.all) + 1}"
            node = CloudNode(
                id=name, backend="fake", name=name, state=NodeState.RUNNING, pool=request.pool,
                preemptible=request.preemptible is not False, shape="Sim.Standard", ocpus=4,
                memory_gb=16, gpus=0, price_per_hour=3600.0, launched_at=self.clock(),
            )  # fmt: skip
            self.all[name] = node
            made.append(node)
        return ProvisionResult(requested=request.count, nodes=tuple(made))

    def release(self, node_ids: Collection[str]) -> list[str]:
        for node_id in node_ids:
            node = self.all[node_id]
            self.all[node_id] = CloudNode(**{**node.__dict__, "state": NodeState.TERMINATED})
        self.released += list(node_ids)
        return list(node_ids)

    def describe(self) -> list[CloudNode]:
        return [n for n in self.all.values() if n.state is not NodeState.TERMINATED]

    def close(self) -> None:
        pass


@pytest.fixture
def cloud(clock: FakeClock) -> FakeCloud:
    return FakeCloud(clock)


def make_services(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud, **cloud_settings: object
) -> Services:
    services: Services = make_app(tmp_path, clock, cloud, **cloud_settings).extensions["cloudburst"]
    return services


def make_app(tmp_path: Path, clock: FakeClock, cloud: FakeCloud, **cloud_settings: object) -> Flask:
    settings = Settings(
        data_dir=tmp_path / "d",
        ranking=RankingSettings(default_frame_s=600),  # 10 min a frame until measured
        cloud=CloudSettings.model_validate(
            {"backend": "simcloud", "idle_timeout_s": 60, "budgets": {"show": 1000.0},
             **cloud_settings}
        ),
    )  # fmt: skip
    return create_app(settings, clock=clock, cloud_backend=lambda: cloud)


def submit(services: Services, clock: FakeClock, frames: str = "1-8", due_in: float = 600.0,
           **changes: object) -> int:  # fmt: skip
    values: dict[str, object] = {
        "name": "sh010", "owner": "ana", "project": "show", "scene": "/s/sh010.blend",
        "frames": frames, "chunk_size": 4, "output": "/r/sh010_####",
        "due": datetime.fromtimestamp(clock() + due_in, tz=UTC), "placement": Placement.AUTO,
    }  # fmt: skip
    values.update(changes)
    job = services.jobs.submit(JobSpec.model_validate(values))
    return job.id


def stage(services: Services, job_id: int) -> None:
    """Marks the job staged (staging itself is tested against a real store elsewhere)."""
    with services.context.database.transaction() as db:
        data_store.insert_pending(db, job_id, 0.0)
        data_store.claim_pending(db, job_id, 0.0)
        data_store.record_manifest(db, job_id, '{"entries": []}', 0, 0, 0.0)
        data_store.mark_staged(db, job_id, blobs_sent=0, bytes_sent=0, destination="s3://x/",
                               now=0.0)  # fmt: skip


def cloud_agent(services: Services, name: str) -> str:
    registration = AgentRegistration(name=name, hostname=name, studio_access=False)
    return services.agents.register(registration).id


def test_a_job_the_local_farm_cannot_finish_in_time_bursts_in_short_tasks(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud)
    job_id = submit(services, clock)
    stage(services, job_id)
    decisions = services.burst.run_pass()
    assert [d.verdict.value for d in decisions] == ["burst"]
    assert len(cloud.requests) == 1 and cloud.requests[0].count >= 1
    assert len(cloud.requests[0].enrollment_tokens) == cloud.requests[0].count
    route = services.burst.route(job_id)
    assert route is not None and route.cloud_quota == 8
    node = cloud_agent(services, "sim-1")
    assignment = services.agents.lease(node)
    assert assignment is not None
    assert route.cloud_chunk == 2  # ~22 min tasks: little lost to a preemption
    assert len(assignment.frames) == 2  # the 4-frame task was split for the cloud
    tasks = services.jobs.tasks(job_id)
    assert sum(len(t.frames) for t in tasks) == 8  # no frame lost nor doubled by the split
    assert sorted(f for t in tasks for f in t.frames) == list(range(1, 9))


def test_the_pass_stores_the_sentences_the_api_and_the_dashboard_show(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    # The clock starts at 08:00 UTC; frames take 10 min until measured; no local agent.
    app = make_app(tmp_path, clock, cloud)
    services: Services = app.extensions["cloudburst"]
    late = submit(services, clock)
    stage(services, late)
    relaxed = submit(services, clock, due_in=30 * 86400)
    stage(services, relaxed)
    unstaged = submit(services, clock, frames="1-4")
    services.burst.run_pass()
    said = {
        late: "local farm finishes at 09:25, 1 h 15 min after the due date; 8 of 8 frames may "
        "go to the cloud",
        relaxed: "local farm finishes at 10:05, 29 days 22 h before the due date; it stays local",
        unstaged: "local farm finishes at 08:45, 35 min after the due date; 4 of 4 frames will go "
        "to the cloud once its data is staged",
    }
    token = user_token(services, "td", Role.ADMIN)
    with serve(app) as url:
        for job_id, words in said.items():
            answer = requests.get(
                f"{url}/api/v1/jobs/{job_id}/route",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["reason"] == words
    page = sign_in(app, "ana").get(f"/jobs/{late}").data.decode()
    assert f"burst: {said[late]}" in page


def test_cloud_nodes_take_nothing_from_jobs_on_time_or_unstaged(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud)
    relaxed = submit(services, clock, due_in=30 * 86400)  # weeks away: the farm makes it
    stage(services, relaxed)
    urgent = submit(services, clock)  # not staged
    services.burst.run_pass()
    assert services.burst.route(relaxed).verdict == "on-time"  # type: ignore[union-attr]
    assert services.burst.route(urgent).verdict == "await-staging"  # type: ignore[union-attr]
    assert cloud.requests == []
    assert services.agents.lease(cloud_agent(services, "sim-x")) is None


def test_a_show_without_budget_never_bursts(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud, budgets={})
    job_id = submit(services, clock)
    stage(services, job_id)
    services.burst.run_pass()
    route = services.burst.route(job_id)
    assert route is not None and route.verdict == "no-budget"
    assert cloud.requests == []


def test_spend_reaching_the_budget_stops_new_cloud_work(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    # A node costs 1 per second here (3600 an hour); the show may spend 3000, and the job's
    # 4 frames of 600 s would cost 2400.
    services = make_services(tmp_path, clock, cloud, budgets={"show": 3000.0},
                             simcloud={"preemptible_price_per_hour": 3600.0,
                                       "on_demand_price_per_hour": 3600.0})  # fmt: skip
    job_id = submit(services, clock, frames="1-4")
    stage(services, job_id)
    services.burst.run_pass()
    assert services.burst.route(job_id).verdict == "burst"  # type: ignore[union-attr]
    node = cloud_agent(services, "sim-1")
    assignment = services.agents.lease(node)
    assert assignment is not None
    services.agents.progress(node, assignment.task_id, TaskProgress(attempt=1, progress=0.5))
    clock.advance(4000)  # slower than measured: 4000 s of cloud rendering, over the budget
    done = TaskDone(attempt=1, outputs=[f"/r/sh010_{f:04d}" for f in assignment.frames])
    services.agents.complete(node, assignment.task_id, done)
    spend = services.burst.books.spend()
    show = next(s for s in spend.shows if s.project == "show")
    assert show.spent.compute == pytest.approx(4000.0)
    assert show.room < 0
    services.burst.run_pass()
    assert services.burst.route(job_id).verdict == "no-budget"  # type: ignore[union-attr]
    assert services.agents.lease(node) is None  # no new cloud task; the local farm goes on


def test_a_preempted_cloud_task_goes_back_without_spending_a_retry(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud)
    job_id = submit(services, clock, max_retries=0)
    stage(services, job_id)
    services.burst.run_pass()
    node = cloud_agent(services, "sim-1")
    assignment = services.agents.lease(node)
    assert assignment is not None
    failure = TaskFailure(attempt=1, error="node preempted", preempted=True)
    services.agents.fail(node, assignment.task_id, failure)
    task = next(t for t in services.jobs.tasks(job_id) if t.id == assignment.task_id)
    assert task.state is TaskState.QUEUED  # max_retries=0, yet not failed
    usage = services.context.database.db.execute(
        "SELECT preempted FROM cloud_usage WHERE task_id = ?", [assignment.task_id]
    ).fetchall()
    assert usage == [(1,)]


def test_idle_nodes_are_released_after_the_idle_timeout_and_not_before(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud)
    job_id = submit(services, clock, frames="1-4")
    stage(services, job_id)
    services.burst.run_pass()
    launched = [n.id for n in cloud.describe()]
    assert launched
    for name in launched:  # their agents come up
        cloud_agent(services, name)
    services.jobs.cancel(job_id)  # the backlog is gone
    services.burst.run_pass()
    clock.advance(30)
    services.burst.run_pass()
    assert cloud.released == []  # idle 30 s of 60
    clock.advance(31)
    services.burst.run_pass()
    assert sorted(cloud.released) == sorted(launched)
    assert {r.state for r in services.resources.cloud_resources()} == {"terminating"}
    services.burst.run_pass()
    assert cloud.describe() == []
    assert {r.state for r in services.resources.cloud_resources()} == {"terminated"}


def test_scale_by_hand_keeps_a_floor_and_releases(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    from common.models import ScaleRequest

    services = make_services(tmp_path, clock, cloud)
    result = services.resources.scale(ScaleRequest(count=2))
    assert len(result.launched) == 2
    for name in result.launched:
        cloud_agent(services, name)
    services.burst.run_pass()
    clock.advance(120)  # idle twice the idle timeout
    services.burst.run_pass()
    assert cloud.released == []  # the floor holds idle nodes
    result = services.resources.scale(ScaleRequest(state="released"))
    assert sorted(result.released) == sorted(n for n in cloud.all)


def test_a_node_whose_agent_never_comes_is_released_after_the_boot_grace(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud, boot_grace_s=300)
    job_id = submit(services, clock, frames="1-4")
    stage(services, job_id)
    services.burst.run_pass()
    launched = [n.id for n in cloud.describe()]
    clock.advance(200)
    services.burst.run_pass()
    assert cloud.released == []  # still booting, maybe
    clock.advance(200)
    services.burst.run_pass()
    assert set(launched) <= set(cloud.released)


def test_a_node_tagged_ours_but_unknown_to_the_daemon_is_swept(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud, unknown_grace_s=60)
    stray = cloud.provision(ProvisionRequest(count=1, pool="cloud", enrollment_tokens=("t",)))
    services.burst.run_pass()
    assert cloud.released == []
    clock.advance(61)
    services.burst.run_pass()
    assert cloud.released == [stray.nodes[0].id]
    assert services.resources.cloud_resources() == []  # never adopted


def test_a_draining_node_takes_nothing_while_another_node_takes_the_burst(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud
) -> None:
    services = make_services(tmp_path, clock, cloud)
    job_id = submit(services, clock)
    stage(services, job_id)
    services.burst.run_pass()
    db = services.context.database.db
    nodes = [row["id"] for row in db.query("SELECT id FROM cloud_nodes ORDER BY id")]
    assert nodes
    with services.context.database.transaction() as tx:
        tx.execute("UPDATE cloud_nodes SET name = 'sim-draining' WHERE id = ?", [nodes[0]])
        cloud_store.set_draining(tx, [nodes[0]])
    assert services.agents.lease(cloud_agent(services, "sim-draining")) is None
    assignment = services.agents.lease(cloud_agent(services, "sim-other"))
    assert assignment is not None and assignment.job_id == job_id
