"""A job's life after it ends, over real HTTP: resubmitted as the caller's own (other frames,
another name), archived out of the default listing, deleted with its tasks and logs while its
frames stay on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.accounts import Role
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.calls import snapshot
from tests.daemon.http_farm import HttpFarm


@pytest.fixture
def farm(live_url: str, admin_token: str) -> Iterator[HttpFarm]:
    yield HttpFarm(live_url, admin_token)


def finish(farm: HttpFarm, job_id: int) -> None:
    """Renders every task of the job (a node of its own leases them)."""
    node = farm.register(f"node-{job_id}")
    while (task := farm.lease(node)) is not None:
        farm.complete(node, task)
    assert farm.job(job_id)["state"] == "succeeded"


def listed(farm: HttpFarm, query: str = "") -> list[int]:
    answer = farm.call("GET", f"/jobs{query}")
    assert answer.status_code == 200, answer.text
    return [job["id"] for job in answer.json()["data"]["items"]]


def test_resubmit_makes_a_new_job_of_the_callers_with_the_same_spec(
    farm: HttpFarm, services: Services
) -> None:
    ben = user_token(services, "ben", Role.ARTIST)
    old = farm.submit(frames="1-10", chunk_size=3, priority=70)  # ana's
    farm.call("DELETE", f"/jobs/{old['id']}")

    answer = farm.call(
        "POST", f"/jobs/{old['id']}/resubmit", {"frames": "4-6", "name": "again"}, token=ben
    )

    assert answer.status_code == 201, answer.text
    new = answer.json()["data"]
    assert new["id"] != old["id"] and new["state"] == "queued"
    assert new["spec"]["owner"] == "ben" and new["submitted_by"] == "ben"
    assert (new["spec"]["name"], new["spec"]["frames"], new["frame_count"]) == ("again", "4-6", 3)
    for same in ("scene", "output", "chunk_size", "priority", "project", "dcc"):
        assert new["spec"][same] == old["spec"][same]
    assert farm.job(old["id"])["state"] == "cancelled"  # the old job is left as it was
    plain = farm.call("POST", f"/jobs/{old['id']}/resubmit", {}).json()["data"]
    assert (plain["spec"]["frames"], plain["spec"]["name"]) == ("1-10", old["spec"]["name"])


@pytest.mark.parametrize(
    ("body", "code"),
    [({"frames": "10-1"}, "invalid_frame_spec"), ({"frames": ""}, "invalid_input"),
     ({"chunk_size": 4}, "invalid_input")],
)  # fmt: skip
def test_a_bad_resubmission_is_refused_and_stores_nothing(
    farm: HttpFarm, services: Services, body: dict[str, Any], code: str
) -> None:
    old = farm.submit()
    before = snapshot(services)
    answer = farm.call("POST", f"/jobs/{old['id']}/resubmit", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert snapshot(services) == before


def test_resubmit_applies_the_rules_of_a_submission(farm: HttpFarm, services: Services) -> None:
    """An artist cloning a TD's job cannot carry over what only TDs may set."""
    ana = user_token(services, "ana", Role.ARTIST)
    td_job = farm.submit(owner=None, env={"PYTHONPATH": "/studio/python"})
    before = snapshot(services)
    answer = farm.call("POST", f"/jobs/{td_job['id']}/resubmit", {}, token=ana)
    assert answer.status_code == 403, answer.text
    assert "Only TDs and admins may set PYTHONPATH" in answer.json()["message"]
    assert snapshot(services) == before


def test_archive_hides_a_finished_job_from_the_default_listing(farm: HttpFarm) -> None:
    job = farm.submit(frames="1-2")
    other = farm.submit(frames="1")
    refused = farm.call("POST", f"/jobs/{job['id']}/archive")
    assert refused.status_code == 409
    assert "only a finished job can be archived" in refused.json()["message"]
    finish(farm, job["id"])

    answer = farm.call("POST", f"/jobs/{job['id']}/archive")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["archived_at"] is not None
    assert listed(farm) == [other["id"]]
    assert listed(farm, "?archived=true") == [job["id"]]
    assert farm.call("POST", f"/jobs/{job['id']}/archive").status_code == 409  # already
    assert farm.call("POST", f"/jobs/{job['id']}/unarchive").status_code == 200
    assert listed(farm) == [other["id"], job["id"]]


def test_delete_removes_a_finished_job_its_tasks_and_logs_but_not_its_frames(
    farm: HttpFarm, services: Services, tmp_path: Path
) -> None:
    frame = tmp_path / "f_0001.png"
    frame.write_bytes(b"frame")
    job = farm.submit(frames="1-2")
    running = farm.call("DELETE", f"/jobs/{job['id']}/record")
    assert running.status_code == 409
    assert "only a finished job can be deleted" in running.json()["message"]
    node = farm.register("node07")
    task = farm.lease(node)
    assert task is not None
    agent_id, token = node
    farm.call(
        "POST", f"/agents/{agent_id}/tasks/{task['task_id']}/log",
        {"attempt": task["attempt"], "offset": 0, "text": "rendering\n"}, token=token,
    )  # fmt: skip
    farm.complete(node, task)
    db = services.context.database.db
    assert (services.context.task_logs.root / str(job["id"])).is_dir()

    answer = farm.call("DELETE", f"/jobs/{job['id']}/record")

    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["id"] == job["id"]
    assert farm.call("GET", f"/jobs/{job['id']}").status_code == 404
    for table in ("tasks", "job_task_counts"):
        assert list(db.query(f"SELECT 1 FROM {table} WHERE job_id = ?", [job["id"]])) == []
    assert not (services.context.task_logs.root / str(job["id"])).exists()
    assert frame.read_bytes() == b"frame"
    assert farm.call("DELETE", f"/jobs/{job['id']}/record").status_code == 404


def test_a_job_others_wait_for_is_not_deleted(farm: HttpFarm, services: Services) -> None:
    upstream = farm.submit(frames="1")
    farm.call("DELETE", f"/jobs/{upstream['id']}")  # cancelled: its dependant is held
    dependant = farm.submit(frames="1", depends_on=[upstream["id"]])
    assert farm.job(dependant["id"])["state"] == "waiting"
    before = snapshot(services)
    answer = farm.call("DELETE", f"/jobs/{upstream['id']}/record")
    assert answer.status_code == 409
    assert f"job(s) {dependant['id']} depend on it" in answer.json()["message"]
    assert snapshot(services) == before


def test_only_the_owner_or_jobs_manage_archive_or_delete(
    farm: HttpFarm, services: Services
) -> None:
    ana = user_token(services, "ana", Role.ARTIST)
    ben = user_token(services, "ben", Role.ARTIST)
    job = farm.submit(frames="1")  # ana's
    farm.call("DELETE", f"/jobs/{job['id']}")
    before = snapshot(services)
    for method, path in (("POST", "archive"), ("DELETE", "record")):
        refused = farm.call(method, f"/jobs/{job['id']}/{path}", token=ben)
        assert refused.status_code == 403
        assert snapshot(services) == before
    assert farm.call("POST", f"/jobs/{job['id']}/archive", token=ana).status_code == 200
    assert farm.call("DELETE", f"/jobs/{job['id']}/record", token=ana).status_code == 200
