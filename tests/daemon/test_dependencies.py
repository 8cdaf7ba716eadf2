"""Jobs that wait for other jobs, over real HTTP: a dependant gets no frame before what it waits
for is done (the whole job, or frame N for frame N), a failed or cancelled upstream holds it with
the reason, and lists that name unknown jobs or close a loop are refused with nothing stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests

from daemon.app import Services
from tests.daemon.calls import job_body, snapshot


@dataclass
class Farm:
    """A daemon on 127.0.0.1 and one agent, both driven over real HTTP as the admin."""

    url: str
    token: str
    services: Services
    agent_id: str = ""

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method, f"{self.url}/api/v1{path}", json=body, timeout=30,
            headers={"Authorization": f"Bearer {self.token}"},
        )  # fmt: skip

    def submit(self, **fields: Any) -> int:
        response = self.call("POST", "/jobs", job_body(chunk_size=1, **fields))
        assert response.status_code == 201, response.text
        job_id: int = response.json()["data"]["id"]
        return job_id

    def job(self, job_id: int) -> dict[str, Any]:
        response = self.call("GET", f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def lease(self) -> dict[str, Any] | None:
        """The task the agent gets now (its job and frames); None: nothing (204)."""
        response = self.call("POST", f"/agents/{self.agent_id}/lease")
        assert response.status_code in (200, 204), response.text
        if response.status_code == 204:
            return None
        data: dict[str, Any] = response.json()["data"]
        return data

    def complete(self, task: dict[str, Any]) -> None:
        path = f"/agents/{self.agent_id}/tasks/{task['task_id']}/complete"
        response = self.call("POST", path, {"attempt": task["attempt"], "outputs": []})
        assert response.status_code == 200, response.text

    def fail(self, task: dict[str, Any]) -> None:
        path = f"/agents/{self.agent_id}/tasks/{task['task_id']}/fail"
        response = self.call("POST", path, {"attempt": task["attempt"], "error": "scene broken"})
        assert response.status_code == 200, response.text

    def render_all(self, job_id: int) -> None:
        """Leases and completes tasks until ``job_id`` succeeded (only its tasks are ready)."""
        while self.job(job_id)["state"] != "succeeded":
            task = self.lease()
            assert task is not None and task["job_id"] == job_id
            self.complete(task)

    def stored(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row the daemon keeps of jobs and what they wait for."""
        db = self.services.context.database.db
        rows = dict(snapshot(self.services))
        for table in ("job_dependencies", "task_dependencies", "job_ranks"):
            rows[table] = [tuple(r.values()) for r in db.query(f"SELECT * FROM {table}")]
        return rows


@pytest.fixture
def farm(services: Services, live_url: str, admin_token: str) -> Farm:
    farm = Farm(live_url, admin_token, services)
    response = farm.call("POST", "/agents", {"name": "n1", "hostname": "n1", "dccs": ["blender"]})
    assert response.status_code == 201, response.text
    farm.agent_id = response.json()["data"]["id"]
    return farm


def pin(farm: Farm, job_id: int) -> None:
    """Puts the job first in the queue: whenever it has a ready task, the agent gets it."""
    response = farm.call("PUT", f"/jobs/{job_id}/pin", {"pinned": True})
    assert response.status_code == 200, response.text


def test_a_dependent_job_gets_no_frame_until_its_dependency_succeeded(farm: Farm) -> None:
    sim = farm.submit(name="sim", frames="1-2")
    render = farm.submit(name="render", frames="1-2", depends_on=[sim])
    pin(farm, render)
    job = farm.job(render)
    assert job["state"] == "waiting"
    assert job["rank_reason"] == f"Waiting for job {sim} (sim) to succeed."
    assert job["message"] == job["rank_reason"]
    first, second = farm.lease(), farm.lease()
    assert first is not None and second is not None
    assert {first["job_id"], second["job_id"]} == {sim}
    farm.complete(first)
    assert farm.lease() is None  # sim is still running: nothing of render
    farm.complete(second)
    assert farm.job(sim)["state"] == "succeeded"
    released = farm.job(render)
    assert released["state"] == "queued" and released["message"] == ""
    task = farm.lease()
    assert task is not None and task["job_id"] == render


def test_frame_n_is_leasable_as_soon_as_frame_n_of_the_upstream_is_done(farm: Farm) -> None:
    sim = farm.submit(name="sim", frames="1-3")
    comp = farm.submit(name="comp", frames="1-4", depends_on=[{"job": sim, "frames": "same"}])
    pin(farm, comp)
    assert farm.job(comp)["state"] == "queued"  # a live "same" upstream never holds the job
    # frame 4 has no counterpart upstream: it waits for nothing
    lone = farm.lease()
    assert lone is not None and (lone["job_id"], lone["frames"]) == (comp, [4])
    farm.complete(lone)
    for frame in (1, 2, 3):
        upstream = farm.lease()  # comp's frame N is not ready: the agent gets sim's frame N
        assert upstream is not None and (upstream["job_id"], upstream["frames"]) == (sim, [frame])
        farm.complete(upstream)
        task = farm.lease()  # ... and comp's frame N as soon as that is done
        assert task is not None and (task["job_id"], task["frames"]) == (comp, [frame])
        farm.complete(task)
    assert farm.job(comp)["state"] == "succeeded"


def test_a_failed_upstream_holds_its_dependants_and_a_retried_success_releases_them(
    farm: Farm,
) -> None:
    sim = farm.submit(name="sim", frames="1", max_retries=0)
    whole = farm.submit(name="render", frames="1", depends_on=[sim])
    same = farm.submit(name="comp", frames="1", depends_on=[{"job": sim, "frames": "same"}])
    task = farm.lease()
    assert task is not None and task["job_id"] == sim
    farm.fail(task)
    assert farm.job(sim)["state"] == "failed"
    held = f"Held: job {sim} (sim) failed; retry or cancel it, or change this job's dependencies."
    for dependant in (whole, same):
        job = farm.job(dependant)
        assert (job["state"], job["rank_reason"], job["message"]) == ("waiting", held, held)
    assert farm.lease() is None
    assert farm.call("POST", f"/jobs/{sim}/retry").status_code == 200
    assert farm.job(whole)["rank_reason"] == f"Waiting for job {sim} (sim) to succeed."
    assert farm.job(same)["state"] == "queued"  # released; its frame waits for sim's frame
    farm.render_all(sim)
    for dependant in (whole, same):
        assert farm.job(dependant)["state"] == "queued"
    leased = {t["job_id"] for t in (farm.lease(), farm.lease()) if t is not None}
    assert leased == {whole, same}


def test_a_running_dependant_takes_nothing_more_once_its_upstream_failed(farm: Farm) -> None:
    sim = farm.submit(name="sim", frames="1", max_retries=0)
    comp = farm.submit(name="comp", frames="1-3", depends_on=[{"job": sim, "frames": "same"}])
    upstream = farm.lease()
    assert upstream is not None and upstream["job_id"] == sim
    running = farm.lease()  # frames 2 and 3 have no counterpart upstream: ready at once
    assert running is not None and (running["job_id"], running["frames"]) == (comp, [2])
    farm.fail(upstream)
    assert farm.job(sim)["state"] == "failed"
    assert farm.lease() is None  # frame 3 is ready, but the job is held while frame 2 runs
    farm.complete(running)
    held = farm.job(comp)
    assert held["state"] == "waiting" and held["rank_reason"].startswith(f"Held: job {sim}")


def test_a_cancelled_upstream_holds_its_dependant_which_can_be_paused_and_cancelled(
    farm: Farm,
) -> None:
    sim = farm.submit(name="sim", frames="1-2")
    render = farm.submit(name="render", frames="1-2", depends_on=[sim])
    assert farm.call("DELETE", f"/jobs/{sim}").status_code == 200
    held = (
        f"Held: job {sim} (sim) was cancelled; change this job's dependencies or cancel this job."
    )
    job = farm.job(render)
    assert (job["state"], job["rank_reason"]) == ("waiting", held)
    assert farm.call("POST", f"/jobs/{render}/pause").json()["data"]["state"] == "paused"
    resumed = farm.call("POST", f"/jobs/{render}/resume").json()["data"]
    assert (resumed["state"], resumed["rank_reason"]) == ("waiting", held)
    assert farm.lease() is None
    cancelled = farm.call("DELETE", f"/jobs/{render}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["data"]["state"] == "cancelled"
    assert cancelled.json()["data"]["task_counts"]["cancelled"] == 2


def test_unknown_ids_are_refused_and_nothing_is_stored(farm: Farm) -> None:
    sim = farm.submit(name="sim", frames="1-2")
    render = farm.submit(name="render", frames="1-2")
    before = farm.stored()
    body = job_body(name="comp", depends_on=[sim, 900_001, {"job": 900_002, "frames": "same"}])
    response = farm.call("POST", "/jobs", body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "unknown_dependency"
    assert "jobs 900001, 900002, which do not exist" in error["message"]
    assert farm.stored() == before
    change = farm.call("PUT", f"/jobs/{render}/depends-on", {"depends_on": [sim, 900_003]})
    assert change.status_code == 400 and change.json()["code"] == "unknown_dependency"
    assert "job 900003, which does not exist" in change.json()["message"]
    assert farm.stored() == before


def test_a_change_that_closes_a_loop_is_refused_with_the_loop_named(farm: Farm) -> None:
    a = farm.submit(name="a", frames="1")
    b = farm.submit(name="b", frames="1", depends_on=[a])
    c = farm.submit(name="c", frames="1", depends_on=[{"job": b, "frames": "same"}])
    before = farm.stored()
    response = farm.call("PUT", f"/jobs/{a}/depends-on", {"depends_on": [c]})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "dependency_cycle"
    assert (
        f"job {a} waits for {c}, which waits for {b}, which waits for {a}"
        in (response.json()["message"])
    )
    itself = farm.call("PUT", f"/jobs/{b}/depends-on", {"depends_on": [a, b]})
    assert itself.status_code == 409 and itself.json()["code"] == "dependency_cycle"
    assert farm.stored() == before


def test_a_change_of_dependencies_holds_or_releases_the_job_at_once(farm: Farm) -> None:
    a = farm.submit(name="a", frames="1-2")
    b = farm.submit(name="b", frames="1-2")
    changed = farm.call("PUT", f"/jobs/{b}/depends-on", {"depends_on": [a]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["state"] == "waiting"
    assert changed.json()["data"]["spec"]["depends_on"] == [a]
    # now frame by frame: b is released, each of its frames waits for a's
    same = farm.call("PUT", f"/jobs/{b}/depends-on", {"depends_on": [{"job": a, "frames": "same"}]})
    assert same.json()["data"]["state"] == "queued"
    pin(farm, b)
    task = farm.lease()
    assert task is not None and task["job_id"] == a
    released = farm.call("PUT", f"/jobs/{b}/depends-on", {"depends_on": []})
    assert released.json()["data"]["state"] == "queued"
    task = farm.lease()
    assert task is not None and task["job_id"] == b  # nothing gates its frames any more


def test_duplicates_collapse_and_the_whole_job_wins(farm: Farm) -> None:
    sim = farm.submit(name="sim", frames="1-2")
    render = farm.submit(
        name="render", frames="1-2", depends_on=[{"job": sim, "frames": "same"}, sim, sim]
    )
    db = farm.services.context.database.db
    rows = [tuple(r.values()) for r in db.query("SELECT * FROM job_dependencies")]
    assert rows == [(render, sim, "all")]
    assert farm.job(render)["state"] == "waiting"


def test_the_dependencies_of_a_finished_job_cannot_change(farm: Farm) -> None:
    sim = farm.submit(name="sim", frames="1")
    other = farm.submit(name="other", frames="1")
    farm.call("DELETE", f"/jobs/{sim}")
    response = farm.call("PUT", f"/jobs/{sim}/depends-on", {"depends_on": [other]})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "illegal_state_change"


def test_a_chain_holds_down_the_line_and_releases_in_order(farm: Farm) -> None:
    sim = farm.submit(name="sim", frames="1")
    render = farm.submit(name="render", frames="1", depends_on=[sim])
    comp = farm.submit(name="comp", frames="1", depends_on=[render])
    assert [farm.job(j)["state"] for j in (sim, render, comp)] == ["queued", "waiting", "waiting"]
    farm.render_all(sim)
    assert [farm.job(j)["state"] for j in (render, comp)] == ["queued", "waiting"]
    farm.render_all(render)
    assert farm.job(comp)["state"] == "queued"


def test_a_job_submitted_paused_waits_once_resumed_and_the_ranking_pass_keeps_why(
    farm: Farm,
) -> None:
    sim = farm.submit(name="sim", frames="1")
    render = farm.submit(name="render", frames="1", depends_on=[sim], paused=True)
    assert farm.job(render)["state"] == "paused"
    resumed = farm.call("POST", f"/jobs/{render}/resume").json()["data"]
    assert resumed["state"] == "waiting"
    farm.services.ranking.run_pass()
    job = farm.job(render)
    assert job["rank"] is None
    assert job["rank_reason"] == f"Waiting for job {sim} (sim) to succeed."
    listed = farm.call("GET", "/jobs?state=waiting").json()["data"]
    assert [item["id"] for item in listed["items"]] == [render]
