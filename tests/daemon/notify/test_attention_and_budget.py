"""``job.needs_attention`` (a task failed for good, a suspect node, a broken dependency) and
``budget.reached`` (the burst pass finds a show's spent budget holding work back), each sent
once; and the outbox's bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.accounts import Role
from common.cloud_settings import CloudSettings
from common.config import RankingSettings, Settings
from common.failure_settings import FailureSettings
from common.models import (
    JobSpec,
    TaskDone,
    TaskFailure,
    TaskProgress,
    WebhookCreate,
    WebhookEvent,
    WebhookScope,
)
from common.webhook_settings import WebhookSettings
from daemon.app import Services, create_app
from daemon.auth import Principal
from daemon.storage import webhooks as hook_store
from tests.conftest import FakeClock
from tests.daemon.notify.conftest import agent, finish, submit
from tests.daemon.notify.receiver import Receiver
from tests.daemon.test_burst import FakeCloud, cloud_agent, stage
from tests.daemon.test_burst import submit as submit_due

ATTENTION = [WebhookEvent.JOB_NEEDS_ATTENTION]


def person(services: Services, name: str, role: Role = Role.ARTIST) -> Principal:
    from common.accounts import UserCreate

    user = services.users.create(UserCreate(name=name, role=role))
    return Principal(kind="user", name=name, role=role, user_id=user.id)


def events(hook: Receiver) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in hook.received]


def test_a_task_that_failed_for_good_needs_attention_once(
    services: Services, hook: Receiver, clock: FakeClock
) -> None:
    ana = person(services, "ana")
    services.webhooks.add(WebhookCreate(url=hook.url, events=ATTENTION), ana)
    job_id = services.jobs.submit(JobSpec(name="many", owner="ana", project="show",
                                          scene="/p/s.blend", frames="1-4", chunk_size=1,
                                          output="/r/m/f_####", max_retries=0,
                                          max_failed_tasks=10)).id  # fmt: skip
    node = agent(services)
    for _ in range(2):  # two tasks fail for good; the job goes on
        task = services.agents.lease(node)
        assert task is not None
        failure = TaskFailure(attempt=task.attempt, error="Error: no camera")
        services.agents.fail(node, task.task_id, failure)
    services.notifier.deliver()
    [told] = events(hook)
    assert told["event"] == "job.needs_attention"
    assert told["job"]["id"] == job_id  # type: ignore[index]
    assert "failed for good on node01: Error: no camera" in str(told["text"])
    clock.advance(3601)  # past [webhooks] attention_quiet_s, a new failure is told again
    task = services.agents.lease(node)
    assert task is not None
    services.agents.fail(node, task.task_id, TaskFailure(attempt=task.attempt, error="again"))
    services.notifier.deliver()
    assert len(hook.received) == 2


def test_a_job_held_by_a_failed_upstream_needs_attention(
    services: Services, hook: Receiver
) -> None:
    ana = person(services, "ana")
    services.webhooks.add(WebhookCreate(url=hook.url, events=ATTENTION), ana)
    upstream = submit(services, owner="ben", max_retries=0)
    downstream = submit(services, depends_on=[upstream])
    finish(services, agent(services), fail=True)  # ben's job fails; ana's waits for good
    services.notifier.deliver()
    [told] = events(hook)
    assert told["job"]["id"] == downstream  # type: ignore[index]
    assert f"job {upstream} (ben shot) failed" in str(told["text"])


def test_a_node_marked_suspect_needs_attention(
    tmp_path: Path, clock: FakeClock, hook: Receiver
) -> None:
    settings = Settings(data_dir=tmp_path / "d", failures=FailureSettings(node_failures_in_a_row=2),
                        webhooks=WebhookSettings(internal_hosts=["127.0.0.1"]))  # fmt: skip
    services: Services = create_app(settings, clock=clock).extensions["cloudburst"]
    ana = person(services, "ana")
    services.webhooks.add(WebhookCreate(url=hook.url, events=ATTENTION), ana)
    submit(services, max_retries=5)
    node = agent(services)
    for _ in range(2):
        task = services.agents.lease(node)
        assert task is not None
        services.agents.fail(node, task.task_id, TaskFailure(attempt=task.attempt, error="segv"))
    services.notifier.deliver()
    [told] = events(hook)
    assert "node node01 failed 2 tasks in a row" in str(told["text"])


def test_the_outbox_is_bounded(tmp_path: Path, clock: FakeClock, hook: Receiver) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        webhooks=WebhookSettings(internal_hosts=["127.0.0.1"], outbox_max=10),
    )
    services: Services = create_app(settings, clock=clock).extensions["cloudburst"]
    ana = person(services, "ana")
    services.webhooks.add(WebhookCreate(url=hook.url, events=[WebhookEvent.JOB_SUCCEEDED]), ana)
    node = agent(services)
    for _ in range(12):
        submit(services)
        finish(services, node)
    assert hook_store.pending_count(services.context.database.db) == 10
    assert services.notifier.deliver().delivered == 10
    submit(services)
    finish(services, node)  # room again once delivered
    assert services.notifier.deliver().delivered == 1


@pytest.fixture
def cloud(clock: FakeClock) -> FakeCloud:
    return FakeCloud(clock)


def test_a_spent_budget_is_told_to_the_show_once(
    tmp_path: Path, clock: FakeClock, cloud: FakeCloud, hook: Receiver
) -> None:
    settings = Settings(
        data_dir=tmp_path / "d", ranking=RankingSettings(default_frame_s=600),
        cloud=CloudSettings.model_validate({
            "backend": "simcloud", "idle_timeout_s": 60, "budgets": {"show": 3000.0},
            "simcloud": {"preemptible_price_per_hour": 3600.0, "on_demand_price_per_hour": 3600.0},
        }),
        webhooks=WebhookSettings(internal_hosts=["127.0.0.1"]),
    )  # fmt: skip
    app = create_app(settings, clock=clock, cloud_backend=lambda: cloud)
    services: Services = app.extensions["cloudburst"]
    pam = person(services, "pam", Role.PRODUCER)
    services.webhooks.add(WebhookCreate(url=hook.url, events=[WebhookEvent.BUDGET_REACHED],
                                        scope=WebhookScope.SHOW, project="show"), pam)  # fmt: skip
    job_id = submit_due(services, clock, frames="1-4")
    stage(services, job_id)
    services.burst.run_pass()
    node = cloud_agent(services, "sim-1")
    assignment = services.agents.lease(node)
    assert assignment is not None
    services.agents.progress(node, assignment.task_id, TaskProgress(attempt=1, progress=0.5))
    clock.advance(4000)  # 4000 s of cloud rendering at 1 a second: over the 3000 budget
    done = TaskDone(attempt=1, outputs=[f"/r/sh010_{f:04d}" for f in assignment.frames])
    services.agents.complete(node, assignment.task_id, done)
    services.notifier.deliver()
    assert hook.received == []  # nothing is told before a pass finds the budget holding work
    for _ in range(3):
        services.burst.run_pass()
        services.notifier.deliver()
    [told] = events(hook)
    assert told["event"] == "budget.reached" and told["project"] == "show"
    assert told["budget"] == {"budget": 3000.0, "spent": pytest.approx(4000.0), "committed": 0.0}
    assert "cloud budget of show is reached" in str(told["text"])
    # A producer raises it: the show is forgotten, and told again when it is spent anew.
    services.burst.books.set_budget("show", 100_000.0, "pam")
    services.burst.run_pass()
    assert hook_store.budget_alerted(services.context.database.db) == set()
