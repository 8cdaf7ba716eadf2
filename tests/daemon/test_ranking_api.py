"""Ranks through the API: the queue, each job's reason, production's overrides, old databases."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from common.config import Settings
from daemon.app import Services, create_app
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.calls import register_agent, submit


def queue(api: FlaskClient) -> list[int]:
    return [entry["job_id"] for entry in api.get("/api/v1/queue").json["data"]["items"]]


def test_every_waiting_job_has_a_rank_and_a_sentence(api: FlaskClient) -> None:
    low = submit(api, name="low", priority=10)
    high = submit(api, name="high", priority=90)
    assert queue(api) == [high["id"], low["id"]]
    job = api.get(f"/api/v1/jobs/{low['id']}").json["data"]
    assert job["rank"] == 2
    assert job["rank_reason"].startswith("Rank 2 of 2: ")
    assert "artist priority 10" in job["rank_reason"]
    assert {p["name"] for p in job["rank_parts"]} == {
        "shotgrid", "due", "artist", "age", "fair_share",
    }  # fmt: skip
    page = api.get("/api/v1/queue").json["data"]
    assert page["total"] == 2 and page["items"][0]["position"] == 1
    assert page["items"][0]["reason"].startswith("Rank 1 of 2: ")
    listed = api.get("/api/v1/jobs").json["data"]["items"]
    assert {j["id"]: j["rank"] for j in listed} == {high["id"]: 1, low["id"]: 2}


def test_jobs_out_of_the_queue_say_why(api: FlaskClient) -> None:
    paused = submit(api, name="paused", frames="1")
    running = submit(api, name="running", frames="1")
    api.post(f"/api/v1/jobs/{paused['id']}/pause")
    agent = register_agent(api)
    assert api.post(f"/api/v1/agents/{agent}/lease").json["data"]["job_id"] == running["id"]
    why = {
        job_id: api.get(f"/api/v1/jobs/{job_id}").json["data"]
        for job_id in (paused["id"], running["id"])
    }
    assert why[paused["id"]]["rank"] is None
    assert "paused" in why[paused["id"]]["rank_reason"]
    assert why[running["id"]]["rank"] is None
    assert "none waits" in why[running["id"]]["rank_reason"]
    api.delete(f"/api/v1/jobs/{running['id']}")
    cancelled = api.get(f"/api/v1/jobs/{running['id']}").json["data"]
    assert cancelled["rank_reason"] == "Not in the queue: the job is cancelled."


def test_a_pinned_job_goes_first_and_the_pin_is_recorded(
    api: FlaskClient, clock: FakeClock
) -> None:
    top = submit(api, name="top", priority=100)
    pinned = submit(api, name="pinned", priority=0)
    response = api.put(f"/api/v1/jobs/{pinned['id']}/pin", json={"note": "client review"})
    assert response.status_code == 200
    assert response.json["data"]["rank"] == 1
    assert "pinned to the top by admin" in response.json["data"]["rank_reason"]
    assert queue(api) == [pinned["id"], top["id"]]
    agent = register_agent(api)
    assert api.post(f"/api/v1/agents/{agent}/lease").json["data"]["job_id"] == pinned["id"]
    clock.advance(10)
    api.put(f"/api/v1/jobs/{pinned['id']}/pin", json={"pinned": False})
    records = api.get("/api/v1/overrides").json["data"]
    assert [(r["kind"], r["by"], r["target"]) for r in records] == [
        ("unpin", "admin", f"job {pinned['id']}"),
        ("pin", "admin", f"job {pinned['id']}"),
    ]
    assert records[1]["note"] == "client review"
    assert records[0]["at"] > records[1]["at"]


def test_a_held_show_gets_no_task_until_released(api: FlaskClient) -> None:
    held = submit(api, name="held", project="alpha", priority=100, frames="1")
    other = submit(api, name="other", project="beta", priority=0, frames="1")
    show = api.put("/api/v1/shows/alpha/hold", json={}).json["data"]
    assert show["held"] is True and show["held_by"] == "admin" and show["target"] == 0
    assert queue(api) == [other["id"]]
    agent = register_agent(api)
    assert api.post(f"/api/v1/agents/{agent}/lease").json["data"]["job_id"] == other["id"]
    assert api.post(f"/api/v1/agents/{agent}/lease").status_code == 204
    reason = api.get(f"/api/v1/jobs/{held['id']}").json["data"]["rank_reason"]
    assert "show alpha is on hold" in reason
    api.put("/api/v1/shows/alpha/hold", json={"held": False})
    assert api.post(f"/api/v1/agents/{agent}/lease").json["data"]["job_id"] == held["id"]


def test_a_show_share_moves_its_target(api: FlaskClient, services: Services) -> None:
    submit(api, project="alpha")
    submit(api, project="beta")
    show = api.put("/api/v1/shows/alpha/share", json={"share": 3}).json["data"]
    assert show["target"] == 0.75 and show["share_by"] == "admin"
    shows = {s["project"]: s for s in api.get("/api/v1/shows").json["data"]}
    assert shows["beta"]["target"] == 0.25 and shows["beta"]["share"] == 1
    bad = api.put("/api/v1/shows/alpha/share", json={"share": 0})
    assert bad.status_code == 400


def test_an_override_is_recorded_under_the_caller_whatever_the_body_claims(
    api: FlaskClient, app: Flask, services: Services
) -> None:
    job = submit(api, project="alpha")
    coord = client_as(app, user_token(services, "coord", Role.PRODUCER))
    claim = {"by": "someone-else", "note": "not me"}
    pinned = coord.put(f"/api/v1/jobs/{job['id']}/pin", json=claim)
    assert pinned.status_code == 200, pinned.json
    assert "pinned to the top by coord" in pinned.json["data"]["rank_reason"]
    held = coord.put("/api/v1/shows/alpha/hold", json={**claim, "held": True}).json["data"]
    shared = coord.put("/api/v1/shows/alpha/share", json={**claim, "share": 2}).json["data"]
    assert held["held_by"] == "coord" and shared["share_by"] == "coord"
    records = coord.get("/api/v1/overrides").json["data"]
    assert [(r["kind"], r["by"]) for r in records] == [
        ("share", "coord"), ("hold", "coord"), ("pin", "coord"),
    ]  # fmt: skip
    assert all(r["note"] == "not me" for r in records)


def test_a_pass_keeps_the_order_and_drops_finished_jobs(
    api: FlaskClient, services: Services
) -> None:
    jobs = [submit(api, name=f"j{i}", priority=i * 10, frames="1") for i in range(5)]
    before = queue(api)
    report = services.ranking.run_pass()
    assert report.jobs == 5 and queue(api) == before
    api.delete(f"/api/v1/jobs/{jobs[4]['id']}")
    services.ranking.run_pass()
    db = services.context.database.db
    ranked = {row["job_id"] for row in db.query("SELECT job_id FROM job_ranks")}
    assert ranked == {job["id"] for job in jobs[:4]}


def test_a_database_from_before_ranking_is_migrated_and_leases(tmp_path: Path) -> None:
    path = tmp_path / "data" / "cloudburst.sqlite3"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    sql = resources.files("daemon.storage.migrations").joinpath("0001_init.sql").read_text()
    conn.executescript(sql)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO schema_migrations VALUES (1, '0001_init.sql')")
    spec = (
        '{"name": "old", "owner": "ana", "scene": "/s.blend", "frames": "1-2", "chunk_size": 2,'
        ' "output": "/o/f_####", "due": "2027-01-16T08:00:00Z", "priority": 70}'
    )
    conn.execute(
        "INSERT INTO jobs (name, owner, project, dcc, spec, priority, state, frame_count,"
        " submitted_at) VALUES ('old', 'ana', 'show', 'blender', ?, 70, 'queued', 2, 1)",
        [spec],
    )
    conn.execute(
        "INSERT INTO tasks (job_id, idx, frames, frame_count, state) VALUES (1, 0, '[1,2]', 2,"
        " 'queued')"
    )
    conn.commit()
    conn.close()
    app = create_app(Settings(data_dir=path.parent), clock=FakeClock())
    api = client_as(app, user_token(app.extensions["cloudburst"], "admin", Role.ADMIN))
    row = next(iter(app.extensions["cloudburst"].context.database.db.query("SELECT * FROM jobs")))
    assert (row["chunk_size"], row["due_at"]) == (2, 1_800_086_400.0)
    assert api.get("/api/v1/jobs/1").json["data"]["rank"] == 1
    agent = register_agent(api)
    assert api.post(f"/api/v1/agents/{agent}/lease").json["data"]["job_id"] == 1


def test_a_pass_writes_only_the_ranks_that_moved(
    api: FlaskClient, services: Services, clock: FakeClock
) -> None:
    jobs = [submit(api, name=f"j{i}", priority=i * 10, frames="1") for i in range(3)]
    services.ranking.run_pass()
    db = services.context.database.db

    def ranked_at() -> dict[int, float]:
        return {r["job_id"]: r["ranked_at"] for r in db.query("SELECT * FROM job_ranks")}

    first = ranked_at()
    clock.advance(5)
    services.ranking.run_pass()
    assert ranked_at() == first  # five seconds of waiting moved no rank
    api.put(f"/api/v1/jobs/{jobs[0]['id']}/priority", json={"priority": 95})
    clock.advance(5)
    services.ranking.run_pass()
    after = ranked_at()
    assert after[jobs[0]["id"]] > first[jobs[0]["id"]]
    assert queue(api)[0] == jobs[0]["id"]
