"""Per-task control over real HTTP: retry, requeue, suspend and resume one task, who may, and
what each refuses (with the task named as every listing names it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.accounts import Role
from common.models import JobSpec
from daemon.app import Services
from daemon.storage import jobs as job_store
from daemon.storage.db import open_database
from tests.conftest import FakeClock, user_token
from tests.daemon.calls import snapshot
from tests.daemon.http_farm import HttpFarm

Node = tuple[str, str]


@pytest.fixture
def farm(live_url: str, admin_token: str) -> Iterator[HttpFarm]:
    yield HttpFarm(live_url, admin_token)


def tasks(farm: HttpFarm, job_id: int) -> list[dict[str, Any]]:
    answer = farm.call("GET", f"/jobs/{job_id}/tasks")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["data"]["items"]
    return items


def act(farm: HttpFarm, job_id: int, task_id: int, action: str, token: str | None = None) -> Any:
    return farm.call("POST", f"/jobs/{job_id}/tasks/{task_id}/{action}", token=token)


def fail(farm: HttpFarm, node: Node, task: dict[str, Any], error: str = "exit 1") -> None:
    agent_id, token = node
    answer = farm.call(
        "POST", f"/agents/{agent_id}/tasks/{task['task_id']}/fail",
        {"attempt": task["attempt"], "error": error}, token=token,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


def start(farm: HttpFarm, node: Node, task: dict[str, Any]) -> None:
    agent_id, token = node
    answer = farm.call(
        "POST", f"/agents/{agent_id}/tasks/{task['task_id']}/progress",
        {"attempt": task["attempt"], "progress": 0.25}, token=token,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


def test_retry_gives_a_failed_task_a_fresh_budget_and_reopens_its_failed_job(
    farm: HttpFarm, clock: FakeClock
) -> None:
    job = farm.submit(frames="1-4", chunk_size=2, max_retries=1)
    node = farm.register("node07")
    for _ in range(2):  # the first task fails twice: its budget of one retry is spent
        task = farm.lease(node)
        assert task is not None and task["frames"] == [1, 2]
        clock.advance(5)
        fail(farm, node, task)
    farm.complete(node, farm.lease(node) or {})
    assert farm.job(job["id"])["state"] == "failed"
    first = tasks(farm, job["id"])[0]
    assert first["state"] == "failed"
    # a failed task keeps the node it failed on, by name
    assert first["agent_id"] is None and first["agent_name"] == "node07"

    answer = act(farm, job["id"], first["id"], "retry")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["state"] == "queued"
    job_now = farm.job(job["id"])
    # open again (running: one of its tasks is done), its failure forgotten
    assert job_now["state"] == "running" and job_now["finished_at"] is None
    assert job_now["message"] == ""
    task = farm.lease(node)
    assert task is not None and task["task_id"] == first["id"]
    fail(farm, node, task)  # one failure of the fresh budget: queued again, not failed
    assert tasks(farm, job["id"])[0]["state"] == "queued"


def test_requeue_takes_a_running_task_back_with_no_retry_spent(farm: HttpFarm) -> None:
    job = farm.submit(frames="1-2", chunk_size=2, max_retries=0)
    node = farm.register("node07")
    task = farm.lease(node)
    assert task is not None
    start(farm, node, task)

    answer = act(farm, job["id"], task["task_id"], "requeue")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["state"] == "queued"
    assert answer.json()["data"]["agent_id"] is None
    # its agent learns at its next heartbeat that it must stop the task ...
    agent_id, token = node
    beat = farm.call(
        "POST", f"/agents/{agent_id}/heartbeat", {"task_ids": [task["task_id"]]}, token=token
    )
    assert beat.json()["data"]["cancel"] == [task["task_id"]]
    # ... and its late report of the old attempt changes nothing
    late = farm.call(
        "POST", f"/agents/{agent_id}/tasks/{task['task_id']}/complete",
        {"attempt": task["attempt"], "outputs": []}, token=token,
    )  # fmt: skip
    assert late.status_code == 409
    # no retry was spent: a job with no retries still hands the task out again
    again = farm.lease(node)
    assert again is not None and again["task_id"] == task["task_id"]
    assert again["attempt"] == task["attempt"] + 1


def test_a_suspended_task_is_never_handed_out_until_resumed(farm: HttpFarm) -> None:
    job = farm.submit(frames="1-4", chunk_size=2)
    first, second = tasks(farm, job["id"])
    node = farm.register("node07")

    answer = act(farm, job["id"], first["id"], "suspend")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["state"] == "suspended"
    leased = farm.lease(node)
    assert leased is not None and leased["task_id"] == second["id"]
    farm.complete(node, leased)
    assert farm.lease(node) is None  # the suspended task waits
    job_now = farm.job(job["id"])
    # not ended while a task waits to be resumed
    assert job_now["task_counts"]["suspended"] == 1 and job_now["state"] == "running"

    resumed = act(farm, job["id"], first["id"], "resume")

    assert resumed.status_code == 200 and resumed.json()["data"]["state"] == "queued"
    leased = farm.lease(node)
    assert leased is not None and leased["task_id"] == first["id"]
    farm.complete(node, leased)
    assert farm.job(job["id"])["state"] == "succeeded"


@pytest.mark.parametrize(
    ("action", "sentence"),
    [
        ("retry", "Task 1 (frames 1-2) of job {job} is queued; only a failed task can be retried"),
        ("requeue", "only a leased or running task can be requeued (you can suspend it)"),
        ("resume", "only a suspended task can be resumed (you can suspend it)."),
    ],
)
def test_an_impossible_move_is_a_409_that_says_why_and_changes_nothing(
    farm: HttpFarm, services: Services, action: str, sentence: str
) -> None:
    job = farm.submit(frames="1-4", chunk_size=2)
    first = tasks(farm, job["id"])[0]
    before = snapshot(services)

    answer = act(farm, job["id"], first["id"], action)

    assert answer.status_code == 409
    assert answer.json()["code"] == "illegal_state_change"
    assert sentence.format(job=job["id"]) in answer.json()["message"]
    assert snapshot(services) == before


def test_a_running_task_cannot_be_suspended(farm: HttpFarm) -> None:
    job = farm.submit(frames="1-2", chunk_size=2)
    node = farm.register("node07")
    task = farm.lease(node)
    assert task is not None
    answer = act(farm, job["id"], task["task_id"], "suspend")
    assert answer.status_code == 409
    assert (
        "is leased; only a queued task can be suspended (you can requeue it)"
        in (answer.json()["message"])
    )


def test_the_task_must_belong_to_the_job_in_the_path(farm: HttpFarm, services: Services) -> None:
    """The guard checks the caller may act on the job in the path; the service checks the
    task is that job's, so an owner cannot reach another's task through their own job."""
    ana = user_token(services, "ana", Role.ARTIST)
    own = farm.submit(frames="1-2")
    other = farm.submit(owner="ben", frames="1-2")
    their_task = tasks(farm, other["id"])[0]
    before = snapshot(services)

    answer = act(farm, own["id"], their_task["id"], "suspend", token=ana)

    assert answer.status_code == 404
    assert f"Job {own['id']} has no task {their_task['id']}" in answer.json()["message"]
    assert snapshot(services) == before


def test_only_the_owner_or_jobs_manage_may_act_on_a_task(
    farm: HttpFarm, services: Services
) -> None:
    ana = user_token(services, "ana", Role.ARTIST)
    ben = user_token(services, "ben", Role.ARTIST)
    tess = user_token(services, "tess", Role.TD)
    job = farm.submit(frames="1-6", chunk_size=2)  # ana's
    first, second, third = tasks(farm, job["id"])
    before = snapshot(services)

    refused = act(farm, job["id"], first["id"], "suspend", token=ben)

    assert refused.status_code == 403
    assert f"Job {job['id']} is not yours" in refused.json()["message"]
    assert snapshot(services) == before
    assert act(farm, job["id"], first["id"], "suspend", token=ana).status_code == 200
    assert act(farm, job["id"], second["id"], "suspend", token=tess).status_code == 200
    assert [t["state"] for t in tasks(farm, job["id"])] == ["suspended", "suspended", "queued"]
    assert third["state"] == "queued"


def test_the_tasks_of_a_cancelled_job_do_not_move(farm: HttpFarm, services: Services) -> None:
    job = farm.submit(frames="1-2")
    first = tasks(farm, job["id"])[0]
    assert farm.call("DELETE", f"/jobs/{job['id']}").status_code == 200
    before = snapshot(services)
    answer = act(farm, job["id"], first["id"], "retry")
    assert answer.status_code == 409
    assert (
        f"Resubmit it instead (`cloudburst job resubmit {job['id']}`)" in (answer.json()["message"])
    )
    assert snapshot(services) == before


def test_a_cancelled_job_keeps_its_done_tasks_done(farm: HttpFarm) -> None:
    """Frames on disk never show as cancelled: cancelling touches only unfinished tasks."""
    job = farm.submit(frames="1-4", chunk_size=2)
    node = farm.register("node07")
    farm.complete(node, farm.lease(node) or {})
    assert farm.call("DELETE", f"/jobs/{job['id']}").status_code == 200
    assert [t["state"] for t in tasks(farm, job["id"])] == ["done", "cancelled"]
    assert farm.job(job["id"])["task_counts"]["done"] == 1


def test_errors_name_tasks_as_the_listings_do(farm: HttpFarm) -> None:
    """Task 14 in the errors was task 1 on the page: every place says ``task N (frames ..)``,
    N counting the job's tasks from 1."""
    farm.submit(frames="1-2")  # another job's tasks come first in the table
    job = farm.submit(frames="1-4", chunk_size=2, max_retries=0)
    node = farm.register("node07")
    task = farm.lease(node)
    while task is not None and task["job_id"] != job["id"]:
        farm.complete(node, task)
        task = farm.lease(node)
    assert task is not None and task["frames"] == [1, 2]
    assert task["task_id"] != 1  # the label is not the id
    fail(farm, node, task, "Error: out of memory")
    errors = farm.job(job["id"])["errors"]
    assert len(errors) == 1 and errors[0].startswith("Task 1 (frames 1-2): Error: out of memory")


def test_a_paused_job_shows_no_finish_estimate(farm: HttpFarm, clock: FakeClock) -> None:
    job = farm.submit(frames="1-6", chunk_size=2)
    node = farm.register("node07")
    task = farm.lease(node)
    assert task is not None
    start(farm, node, task)
    clock.advance(30)
    farm.complete(node, task)
    assert farm.job(job["id"])["estimated_finish"] is not None  # measured: an estimate
    assert farm.call("POST", f"/jobs/{job['id']}/pause").status_code == 200
    assert farm.job(job["id"])["estimated_finish"] is None
    listed = farm.call("GET", "/jobs").json()["data"]["items"]
    assert [j["estimated_finish"] for j in listed if j["id"] == job["id"]] == [None]


def test_a_failed_job_has_no_task_in_the_queue_depth(farm: HttpFarm) -> None:
    job = farm.submit(frames="1-6", chunk_size=2, max_retries=0, max_failed_tasks=1)
    node = farm.register("node07")
    task = farm.lease(node)
    assert task is not None
    fail(farm, node, task)
    assert farm.job(job["id"])["state"] == "failed"
    assert [t["state"] for t in tasks(farm, job["id"])] == ["failed", "queued", "queued"]
    metrics = farm.call("GET", "/monitoring/metrics").json()["data"]
    assert metrics["queue_depth"] == 0
    farm.submit(frames="1-2")
    assert farm.call("GET", "/monitoring/metrics").json()["data"]["queue_depth"] == 1


def test_cancelling_a_job_cancels_its_suspended_tasks(farm: HttpFarm) -> None:
    job = farm.submit(frames="1-4", chunk_size=2)
    first = tasks(farm, job["id"])[0]
    assert act(farm, job["id"], first["id"], "suspend").status_code == 200
    assert farm.call("DELETE", f"/jobs/{job['id']}").status_code == 200
    assert [t["state"] for t in tasks(farm, job["id"])] == ["cancelled", "cancelled"]
    assert farm.job(job["id"])["state"] == "cancelled"


def test_a_database_from_before_0012_keeps_the_holder_of_each_task(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    db = open_database(path).db
    spec = JobSpec(name="a", owner="o", scene="/s.blend", frames="1-2", output="/o/f_####")
    job_id = job_store.insert_job(db, spec, [[1], [2]], 0.0)
    db.execute(
        "INSERT INTO agents (id, name, hostname, dccs, pool, cores, memory_mb, state,"
        " registered_at, last_seen) VALUES ('a1', 'node07', 'n7', '[]', 'local', 1, 1, 'online',"
        " 0, 0)"
    )
    db.execute("UPDATE tasks SET agent_id = 'a1', state = 'done' WHERE idx = 0")
    # as a database written before migration 0012 would be: then the migration
    db.executescript(
        "DROP INDEX jobs_archived; ALTER TABLE jobs DROP COLUMN archived_at;"
        " ALTER TABLE tasks DROP COLUMN last_agent_id;"
        " DELETE FROM schema_migrations WHERE version = 12;"
    )
    db.conn.close()
    migrated = open_database(path).db
    rows = migrated.query("SELECT last_agent_id FROM tasks WHERE job_id = ? ORDER BY idx", [job_id])
    assert [row["last_agent_id"] for row in rows] == ["a1", None]
    assert [row["archived_at"] for row in migrated.query("SELECT archived_at FROM jobs")] == [None]
