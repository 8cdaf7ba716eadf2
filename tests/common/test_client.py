"""DaemonClient against the real daemon app served by waitress on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from common.client import DaemonClient
from common.credentials import StaticToken
from common.errors import (
    DaemonUnreachable,
    FrameSpecError,
    IllegalStateChange,
    NotFound,
    TaskNotYours,
)
from common.models import AgentRegistration, JobSpec, TaskDone
from daemon.app import Services
from tests.common.dropping_proxy import DroppingProxy


def spec(**overrides: object) -> JobSpec:
    values: dict[str, object] = {
        "name": "n", "owner": "o", "scene": "/s.blend", "frames": "1-4", "output": "/o/f_####",
    }  # fmt: skip
    values.update(overrides)
    return JobSpec.model_validate(values)


def test_round_trip_and_error_mapping(live_url: str, admin_token: str) -> None:
    client = DaemonClient(live_url, auth=StaticToken(admin_token))
    job = client.submit(spec(chunk_size=2))
    assert client.job(job.id).frame_count == 4
    assert client.jobs(owner="o").total == 1
    agent = client.register(AgentRegistration(name="a", hostname="h"))
    assignment = client.lease(agent.id)
    assert assignment is not None and assignment.frames == [1, 2]
    with pytest.raises(NotFound, match="no job 99"):
        client.job(99)
    with pytest.raises(IllegalStateChange):
        client.resume(job.id)
    with pytest.raises(TaskNotYours):
        client.complete(agent.id, assignment.task_id, TaskDone(attempt=5, outputs=[]))
    assert client.cancel(job.id).state == "cancelled"


def test_server_side_validation_error_keeps_its_code(live_url: str, admin_token: str) -> None:
    client = DaemonClient(live_url, auth=StaticToken(admin_token))
    bad = spec().model_copy(update={"frames": "9-1"})  # skips client-side validation
    with pytest.raises(FrameSpecError, match="runs backwards"):
        client.submit(bad)


def test_unreachable_daemon_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept: list[float] = []
    client = DaemonClient(f"http://127.0.0.1:{port}", retries=3, backoff=0.1, sleep=slept.append)
    with pytest.raises(DaemonUnreachable, match="Cannot reach the Cloudburst daemon"):
        client.submit(spec())
    assert slept == [0.1, 0.2, 0.4]


def test_a_submission_whose_answer_was_lost_is_resent_and_stored_once(
    live_url: str, admin_token: str, services: Services
) -> None:
    with DroppingProxy(live_url) as proxy:
        proxy.drops = 1  # the daemon stores the job; the connection drops before the answer
        client = DaemonClient(
            proxy.url, retries=2, backoff=0, sleep=lambda _: None, auth=StaticToken(admin_token)
        )
        job = client.submit(spec())
    keys = proxy.header_values("Idempotency-Key")
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) == 36
    db = services.context.database.db
    assert [row[0] for row in db.execute("SELECT id FROM jobs")] == [job.id]


def test_each_submission_gets_its_own_key(live_url: str, admin_token: str) -> None:
    with DroppingProxy(live_url) as proxy:
        client = DaemonClient(proxy.url, auth=StaticToken(admin_token))
        first, second = client.submit(spec()), client.submit(spec())
        again = client.submit(spec(), idempotency_key=proxy.header_values("Idempotency-Key")[0])
    assert first.id != second.id and again.id == first.id


def test_lease_returns_none_on_204(live_url: str, admin_token: str) -> None:
    client = DaemonClient(live_url, auth=StaticToken(admin_token))
    agent = client.register(AgentRegistration(name="a", hostname="h"))
    assert client.lease(agent.id) is None


def test_queue_overrides_and_shotgrid_status(live_url: str, admin_token: str) -> None:
    client = DaemonClient(live_url, auth=StaticToken(admin_token))
    low = client.submit(spec(name="low", priority=10, project="alpha"))
    high = client.submit(spec(name="high", priority=90, project="alpha"))
    page = client.queue()
    assert [entry.job_id for entry in page.items] == [high.id, low.id]
    assert page.items[0].reason.startswith("Rank 1 of 2: ")
    pinned = client.pin(low.id, note="client review")
    assert pinned.rank == 1 and "pinned to the top by admin" in pinned.rank_reason
    assert client.job(low.id).rank == 1
    held = client.hold_show("alpha")
    assert held.held and held.held_by == "admin"
    assert client.queue().total == 0
    shared = client.set_share("alpha", 2.5)
    assert shared.share == 2.5 and shared.share_by == "admin"
    assert [s.project for s in client.shows()] == ["alpha"]
    kinds = [record.kind for record in client.overrides()]
    assert kinds == ["share", "hold", "pin"]
    status = client.shotgrid_status()
    assert status.configured is False and status.healthy


def test_tasks_come_a_page_at_a_time_and_all_of_them_are_gathered(
    live_url: str, admin_token: str
) -> None:
    client = DaemonClient(live_url, auth=StaticToken(admin_token))
    job = client.submit(spec(frames="1-1201", chunk_size=1))
    page = client.task_page(job.id, offset=1199, limit=10)
    assert [t.frames for t in page.items] == [[1200], [1201]]
    assert page.total == 1201
    tasks = client.tasks(job.id)  # three pages of at most 500
    assert [t.frames[0] for t in tasks] == list(range(1, 1202))
