"""Jobs through the REST API: submit, read, filter, page, and the people's state changes."""

from __future__ import annotations

from flask.testing import FlaskClient

from daemon.app import Services
from tests.conftest import FakeClock
from tests.daemon.calls import register_agent, submit


def test_submit_stores_job_and_chunked_tasks(api: FlaskClient) -> None:
    job = submit(api, frames="1-10", chunk_size=3)
    assert job["state"] == "queued"
    assert job["frame_count"] == 10
    assert job["task_counts"]["queued"] == 4
    tasks = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"]
    assert [t["frames"] for t in tasks] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]
    assert all(t["state"] == "queued" and t["attempts"] == 0 for t in tasks)


def test_stepped_and_listed_frames_make_evenly_stepped_tasks(api: FlaskClient) -> None:
    job = submit(api, frames="1-20x5,100,-3--1", chunk_size=10, dcc="nuke")
    tasks = api.get(f"/api/v1/jobs/{job['id']}/tasks").json["data"]["items"]
    assert [t["frames"] for t in tasks] == [[-3, -2, -1], [1, 6, 11, 16], [100]]


def test_get_reports_progress_counts_and_estimate(api: FlaskClient, clock: FakeClock) -> None:
    job = submit(api, frames="1-4", chunk_size=2)
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    base = f"/api/v1/agents/{agent}/tasks/{lease['task_id']}"
    api.post(f"{base}/progress", json={"attempt": 1, "progress": 0.1})
    clock.advance(20)
    frames = ["/renders/shot010/f_0001.png", "/renders/shot010/f_0002.png"]
    api.post(f"{base}/complete", json={"attempt": 1, "outputs": frames})
    data = api.get(f"/api/v1/jobs/{job['id']}").json["data"]
    assert data["state"] == "running"
    assert data["progress"] == 0.5
    assert data["task_counts"]["done"] == 1 and data["task_counts"]["queued"] == 1
    assert data["started_at"] is not None and data["finished_at"] is None
    # 2 frames took 20 s: 10 s a frame, 2 frames left on one agent -> 20 s from now.
    assert data["estimated_finish"].startswith("2027-01-15T08:00:40")


def test_list_filters_and_pages(api: FlaskClient) -> None:
    for i in range(7):
        submit(api, name=f"j{i}", project="alpha" if i % 2 else "beta", priority=i * 10)
    page = api.get("/api/v1/jobs?project=alpha&limit=2").json["data"]
    assert page["total"] == 3
    assert [j["name"] for j in page["items"]] == ["j5", "j3"]
    page2 = api.get("/api/v1/jobs?project=alpha&limit=2&offset=2").json["data"]
    assert [j["name"] for j in page2["items"]] == ["j1"]
    ranged = api.get("/api/v1/jobs?priority_min=20&priority_max=40").json["data"]
    assert sorted(j["priority"] for j in ranged["items"]) == [20, 30, 40]
    assert api.get("/api/v1/jobs?owner=nobody").json["data"]["total"] == 0
    assert api.get("/api/v1/jobs?state=queued,paused").json["data"]["total"] == 7
    assert api.get("/api/v1/jobs?offset=7").json == {
        "data": {"items": [], "total": 7, "offset": 7, "limit": 50}, "message": "OK.",
    }  # fmt: skip


def test_a_listed_job_is_the_summary_of_the_job(api: FlaskClient, clock: FakeClock) -> None:
    failing = submit(
        api, name="failing", priority=90, frames="1-4", chunk_size=2, max_retries=0,
        max_failed_tasks=1,
    )  # fmt: skip
    waiting = submit(api, name="waiting", project="beta", priority=10, frames="1-2")
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    base = f"/api/v1/agents/{agent}/tasks/{lease['task_id']}"
    clock.advance(20)
    api.post(f"{base}/fail", json={"attempt": 1, "error": "out of memory"})
    api.put(f"/api/v1/jobs/{waiting['id']}/priority", json={"priority": 80})
    listed = {j["id"]: j for j in api.get("/api/v1/jobs").json["data"]["items"]}
    for job_id in (failing["id"], waiting["id"]):
        job = api.get(f"/api/v1/jobs/{job_id}").json["data"]
        summary = listed[job_id]
        # the list leaves out the spec, the errors and the rank's parts and sentence ...
        assert {"spec", "errors", "rank_reason", "rank_parts", "rank_score"}.isdisjoint(summary)
        # ... and says the rest as the job itself does
        assert summary == {
            "id": job["id"], "name": job["spec"]["name"], "owner": job["spec"]["owner"],
            "project": job["spec"]["project"], "dcc": job["spec"]["dcc"],
            "priority": job["spec"]["priority"], "state": job["state"],
            "submitted_at": job["submitted_at"], "started_at": job["started_at"],
            "finished_at": job["finished_at"], "archived_at": job["archived_at"],
            "frame_count": job["frame_count"], "task_counts": job["task_counts"],
            "progress": job["progress"],
            "estimated_finish": job["estimated_finish"], "message": job["message"],
            "rank": job["rank"],
        }  # fmt: skip
    assert listed[failing["id"]]["state"] == "failed"
    assert "out of memory" in listed[failing["id"]]["message"]
    assert listed[waiting["id"]]["rank"] == 1 and listed[waiting["id"]]["priority"] == 80


def test_pause_holds_tasks_and_resume_releases_them(api: FlaskClient) -> None:
    job = submit(api, frames="1-2", chunk_size=1)
    agent = register_agent(api)
    assert api.post(f"/api/v1/jobs/{job['id']}/pause").json["data"]["state"] == "paused"
    assert api.post(f"/api/v1/agents/{agent}/lease").status_code == 204
    assert api.post(f"/api/v1/jobs/{job['id']}/resume").json["data"]["state"] == "queued"
    assert api.post(f"/api/v1/agents/{agent}/lease").status_code == 200


def test_cancel_cancels_every_unfinished_task_and_tells_the_agent(api: FlaskClient) -> None:
    job = submit(api, frames="1-3", chunk_size=1)
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    cancelled = api.delete(f"/api/v1/jobs/{job['id']}").json["data"]
    assert cancelled["state"] == "cancelled"
    assert cancelled["task_counts"]["cancelled"] == 3
    beat = api.post(f"/api/v1/agents/{agent}/heartbeat", json={"task_ids": [lease["task_id"]]})
    assert beat.json["data"]["cancel"] == [lease["task_id"]]
    late = api.post(
        f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/complete",
        json={"attempt": 1, "outputs": []},
    )
    assert late.status_code == 409 and late.json["code"] == "task_not_yours"


def test_priority_change_reorders_dispatch(api: FlaskClient) -> None:
    first = submit(api, name="first", frames="1", priority=50)
    second = submit(api, name="second", frames="1", priority=50)
    api.put(f"/api/v1/jobs/{second['id']}/priority", json={"priority": 90})
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    assert lease["job_id"] == second["id"]
    assert api.get(f"/api/v1/jobs/{second['id']}").json["data"]["spec"]["priority"] == 90
    assert api.get(f"/api/v1/jobs/{first['id']}").json["data"]["state"] == "queued"


def test_retry_requeues_failed_tasks(api: FlaskClient) -> None:
    job = submit(api, frames="1", max_retries=0)
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    api.post(
        f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/fail",
        json={"attempt": 1, "error": "Blender crashed"},
    )
    failed = api.get(f"/api/v1/jobs/{job['id']}").json["data"]
    assert failed["state"] == "failed"
    assert "Blender crashed" in failed["message"]
    retried = api.post(f"/api/v1/jobs/{job['id']}/retry").json["data"]
    assert retried["state"] == "queued" and retried["task_counts"]["queued"] == 1
    assert retried["message"] == "" and retried["finished_at"] is None
    assert api.post(f"/api/v1/agents/{agent}/lease").json["data"]["attempt"] == 2


def test_task_log_reads_from_offset(api: FlaskClient, services: Services) -> None:
    job = submit(api, frames="1")
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    url = f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/log"
    api.post(url, json={"attempt": 1, "offset": 0, "text": "Fra:1 start\n"})
    api.post(url, json={"attempt": 1, "offset": 0, "text": "Fra:1 start\n"})  # resent
    api.post(url, json={"attempt": 1, "offset": 12, "text": "Saved: 'x'\n"})
    log = api.get(f"/api/v1/jobs/{job['id']}/tasks/{lease['task_id']}/log").json["data"]
    assert log["text"] == "Fra:1 start\nSaved: 'x'\n"
    tail = api.get(f"/api/v1/jobs/{job['id']}/tasks/{lease['task_id']}/log?offset=12").json
    assert tail["data"]["text"] == "Saved: 'x'\n" and tail["data"]["next_offset"] == 23
