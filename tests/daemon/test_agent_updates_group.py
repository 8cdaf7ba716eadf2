"""The group commit, through real HTTP: many agents' updates written by one transaction, none
by the requests themselves; a completion finds every write sent before it; a failed flush
loses one batch and the flusher goes on."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from daemon.app import Services
from daemon.services.group_commit import Flushed
from daemon.storage import tasks as task_store
from tests.conftest import FakeClock
from tests.daemon.http_farm import HttpFarm

Node = tuple[str, str]
AGENTS = 6


@pytest.fixture
def farm(live_url: str, admin_token: str) -> HttpFarm:
    return HttpFarm(live_url, admin_token)


def send(farm: HttpFarm, node: Node, body: dict[str, Any]) -> requests.Response:
    agent_id, token = node
    answer = farm.call("POST", f"/agents/{agent_id}/updates", body, token=token)
    assert answer.status_code == 200, answer.text
    return answer


def report(task: dict[str, Any], progress: float, text: str, offset: int = 0) -> dict[str, Any]:
    piece = {"offset": offset, "text": text}
    update = {"task_id": task["task_id"], "attempt": task["attempt"], "progress": progress}
    return {"task_ids": [task["task_id"]], "tasks": [{**update, "log": [piece]}]}


def rows(services: Services) -> dict[int, tuple[str, float]]:
    db = services.context.database.db
    return {r["id"]: (r["state"], r["progress"]) for r in db.query("SELECT * FROM tasks")}


def test_many_agents_updates_are_written_by_one_transaction(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    services.group_commit.defer()  # no flusher thread: the test says when
    farm.submit(frames=f"1-{AGENTS}", chunk_size=1)
    nodes = [farm.register(f"n{i}") for i in range(AGENTS)]
    tasks = [farm.lease(node) for node in nodes]
    database = services.context.database
    commits = database.commits
    clock.advance(3)
    for node, task in zip(nodes, tasks, strict=True):
        assert task is not None
        send(farm, node, report(task, 0.5, f"{node[0]} frame\n"))
    assert database.commits == commits  # no request wrote a transaction of its own
    assert {state for state, _ in rows(services).values()} == {"leased"}
    flushed = services.group_commit.flush()
    assert flushed == Flushed(requests=AGENTS, agents=AGENTS)
    assert database.commits == commits + 1
    assert set(rows(services).values()) == {("running", 0.5)}
    db = services.context.database.db
    seen = {r["last_seen"] for r in db.query("SELECT last_seen FROM agents")}
    assert seen == {clock.now}
    assert services.group_commit.flush() is None  # nothing left


def test_a_completion_finds_the_start_progress_and_log_sent_before_it(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    services.group_commit.defer()
    job = farm.submit(frames="1")
    node = farm.register("n1")
    task = farm.lease(node)
    assert task is not None
    started = clock.now
    send(farm, node, report(task, 0.5, "rendering\n"))
    clock.advance(40)
    farm.complete(node, task)
    row = task_store.get_task(services.context.database.db, task["task_id"])
    assert row is not None
    assert (row["state"], row["started_at"], row["duration_s"]) == ("done", started, 40.0)
    log = farm.call("GET", f"/jobs/{job['id']}/tasks/{task['task_id']}/log")
    assert log.json()["data"]["text"] == "rendering\n"


def test_a_failed_flush_loses_one_batch_and_the_flusher_goes_on(
    farm: HttpFarm, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = farm.submit(frames="1")
    node = farm.register("n1")
    task = farm.lease(node)
    assert task is not None
    failed, committed = threading.Event(), threading.Event()
    real = task_store.renew_held

    def broken(*args: Any) -> None:
        failed.set()
        raise OSError("disk I/O error")

    group = services.group_commit
    group.on_commit.append(lambda flushed: committed.set())
    monkeypatch.setattr(task_store, "renew_held", broken)
    group.start()
    try:
        send(farm, node, report(task, 0.25, "lost\n"))
        assert failed.wait(10)
        monkeypatch.setattr(task_store, "renew_held", real)
        send(farm, node, report(task, 0.75, "kept\n", offset=5))
        assert committed.wait(10)
        assert group._thread is not None and group._thread.is_alive()
    finally:
        group.stop()
    assert rows(services)[task["task_id"]] == ("running", 0.75)
    # Log text never rides in the batch: it went to the log file in its own request.
    log = farm.call("GET", f"/jobs/{job['id']}/tasks/{task['task_id']}/log")
    assert log.json()["data"]["text"] == "lost\nkept\n"


def test_writes_before_start_and_after_stop_are_applied_in_the_request(
    farm: HttpFarm, services: Services
) -> None:
    farm.submit(frames="1")
    node = farm.register("n1")
    task = farm.lease(node)
    assert task is not None
    send(farm, node, report(task, 0.25, "one\n"))
    assert rows(services)[task["task_id"]] == ("running", 0.25)
    services.group_commit.start()
    services.group_commit.stop()
    send(farm, node, report(task, 0.5, "two\n", offset=4))
    assert rows(services)[task["task_id"]] == ("running", 0.5)


def test_before_start_a_failed_write_is_the_requests_error(
    farm: HttpFarm, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    farm.submit(frames="1")
    node = farm.register("n1")
    task = farm.lease(node)
    assert task is not None

    def full(*args: Any) -> None:
        raise OSError("database or disk is full")

    monkeypatch.setattr(task_store, "renew_held", full)
    agent_id, token = node
    answer = farm.call("POST", f"/agents/{agent_id}/updates", report(task, 0.5, "x"), token=token)
    assert answer.status_code == 500
    assert rows(services)[task["task_id"]] == ("leased", 0.0)


def test_the_reaper_counts_a_renewal_not_yet_committed(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    services.group_commit.defer()
    farm.submit(frames="1")
    node = farm.register("n1")
    task = farm.lease(node)  # the lease runs 30 s
    assert task is not None
    clock.advance(29)
    send(farm, node, {"task_ids": [task["task_id"]]})  # waits in the batch
    clock.advance(2)
    assert services.reaper.reap() == 0
    assert rows(services)[task["task_id"]] == ("leased", 0.0)
