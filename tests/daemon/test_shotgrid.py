"""ShotGrid decides the queue: sync, links at submission, write-back, and ShotGrid going down.

Every test runs on Mockgun with a schema built here, and again on the realistic sg-otio schema
from ../shared/mockgun when it is present.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from common.config import Settings
from daemon.app import Services, create_app
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.calls import job_body, register_agent, snapshot, submit
from tests.daemon.shotgrid_site import BUILT, OTIO, SG_OTIO, Flavour, Site, make_site

KEY = "SECRET-KEY-123"


@pytest.fixture(params=[BUILT, OTIO], ids=lambda f: f.name)
def flavour(request: pytest.FixtureRequest) -> Flavour:
    flavour: Flavour = request.param
    if flavour is OTIO and not (SG_OTIO / "schema.pickle").is_file():
        pytest.skip(f"the sg-otio Mockgun schema is not in {SG_OTIO}")
    return flavour


@pytest.fixture
def site(flavour: Flavour, tmp_path: Path, clock: FakeClock) -> Site:
    return make_site(flavour, tmp_path / "schema", clock)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock, site: Site, flavour: Flavour) -> Flask:
    settings = Settings(
        data_dir=tmp_path / "data",
        lease_ttl_s=30,
        shotgrid={
            "site": "https://studio.shotgrid.example", "script_name": "cloudburst",
            "script_key": KEY, "sync_interval_s": 60, "retry_max_s": 600,
            **flavour.settings,
        },
    )  # fmt: skip
    return create_app(settings, clock=clock, shotgrid_connect=site.connect)


@pytest.fixture
def shots(site: Site) -> dict[str, Any]:
    project = site.project("alpha")
    sh010 = site.shot(project, "sh010")
    sh020 = site.shot(project, "sh020")
    return {
        "project": project,
        "sh010": sh010,
        "sh020": sh020,
        "light010": site.task(sh010, "lighting"),
        "light020": site.task(sh020, "lighting"),
        "comp020": site.task(sh020, "comp"),
    }


def queue(api: FlaskClient) -> list[int]:
    return [entry["job_id"] for entry in api.get("/api/v1/queue").json["data"]["items"]]


def lease_job(api: FlaskClient, agent: str) -> int:
    response = api.post(f"/api/v1/agents/{agent}/lease")
    assert response.status_code == 200, response.status_code
    job_id: int = response.json["data"]["job_id"]
    return job_id


def test_raising_a_task_priority_reorders_the_queue_after_one_sync(
    api: FlaskClient, services: Services, site: Site, shots: dict[str, Any], clock: FakeClock
) -> None:
    first = submit(api, name="a", shotgrid={"shot": "sh010", "task": "lighting"}, project="alpha")
    second = submit(api, name="b", shotgrid={"task_id": shots["light020"]["id"]})
    assert second["spec"]["shotgrid"]["shot_id"] == shots["sh020"]["id"]
    assert first["spec"]["shotgrid"]["task_id"] == shots["light010"]["id"]
    services.ranking.run_pass()
    assert queue(api) == [first["id"], second["id"]]  # equal: the first submitted leads

    clock.advance(60)
    site.update("Task", shots["light020"]["id"], {site.priority_field: site.flavour.high})
    services.ranking.run_pass()
    assert queue(api) == [first["id"], second["id"]]  # ShotGrid not read yet

    report = services.shotgrid.sync()
    assert report.ran and not report.error and report.changed == 1
    assert queue(api) == [second["id"], first["id"]]
    job = api.get(f"/api/v1/jobs/{second['id']}").json["data"]
    assert job["rank"] == 1
    assert f"ShotGrid priority {site.flavour.high}" in job["rank_reason"]
    assert lease_job(api, register_agent(api)) == second["id"]


def test_sync_reads_only_what_changed(
    services: Services, api: FlaskClient, site: Site, shots: dict[str, Any], clock: FakeClock
) -> None:
    submit(api, shotgrid={"task_id": shots["light010"]["id"]})
    submit(api, shotgrid={"task_id": shots["light020"]["id"]})
    clock.advance(3600)
    assert services.shotgrid.sync().read == 2  # the first pass reads both linked tasks
    clock.advance(3600)
    site.update("Task", shots["light010"]["id"], {site.priority_field: site.flavour.high})
    assert services.shotgrid.sync().changed == 1
    site.calls.clear()
    clock.advance(3600)
    report = services.shotgrid.sync()
    # Only light010, changed within the overlap of the newest change seen; light020 is not read.
    assert (report.read, report.changed) == (1, 0)
    task_reads = [args for name, args in site.calls if name == "find" and args[0] == "Task"]
    assert task_reads and all(
        any(f[0] == "updated_at" and f[1] == "greater_than" for f in args[1]) for args in task_reads
    )


def test_due_dates_reorder_the_queue(
    api: FlaskClient, services: Services, site: Site, shots: dict[str, Any], clock: FakeClock
) -> None:
    later = submit(api, name="later", shotgrid={"task_id": shots["light010"]["id"]})
    soon = submit(api, name="soon", shotgrid={"task_id": shots["light020"]["id"]})
    own = submit(api, name="own due", due="2027-01-15T20:00:00Z")  # 12 h after the clock
    services.ranking.run_pass()
    assert queue(api) == [own["id"], later["id"], soon["id"]]  # only "own" has a due date

    clock.advance(60)
    site.update("Task", shots["light010"]["id"], {"due_date": site.due_in(30).isoformat()})
    site.update("Task", shots["light020"]["id"], {"due_date": site.due_in(2).isoformat()})
    services.shotgrid.sync()
    assert queue(api) == [own["id"], soon["id"], later["id"]]
    reason = api.get(f"/api/v1/jobs/{soon['id']}").json["data"]["rank_reason"]
    assert "due in 3 days in ShotGrid" in reason or "due in 2 days in ShotGrid" in reason


def test_fair_share_puts_a_show_under_its_share_first(
    api: FlaskClient, services: Services, shots: dict[str, Any]
) -> None:
    busy = submit(api, name="busy", project="alpha", frames="1-4", chunk_size=1)
    agents = [register_agent(api, f"n{i}") for i in range(3)]
    for agent in agents:
        assert lease_job(api, agent) == busy["id"]
    other = submit(api, name="other", project="beta", shotgrid={"task_id": shots["comp020"]["id"]})
    services.ranking.run_pass()
    assert queue(api) == [other["id"], busy["id"]]
    reason = api.get(f"/api/v1/jobs/{busy['id']}").json["data"]["rank_reason"]
    assert "show alpha over its share (100% of the farm for a 50% share)" in reason


def test_version_and_statuses_are_written_back(
    api: FlaskClient, services: Services, site: Site, shots: dict[str, Any]
) -> None:
    job = submit(
        api, frames="1-4", chunk_size=2, output="/renders/sh010/sh010_####",
        shotgrid={"shot": "sh010", "task": "lighting"}, project="alpha",
    )  # fmt: skip
    task_id = shots["light010"]["id"]
    agent = register_agent(api)
    leases = [api.post(f"/api/v1/agents/{agent}/lease").json["data"] for _ in range(2)]
    assert services.writeback.flush().sent == 1
    assert site.get("Task", task_id, ["sg_status_list"])["sg_status_list"] == "ip"
    for lease in leases:
        frames = lease["frames"]
        outputs = [f"/renders/sh010/sh010_{f:04d}.png" for f in frames]
        url = f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/complete"
        assert api.post(url, json={"attempt": 1, "outputs": outputs}).status_code == 200
    assert api.get(f"/api/v1/jobs/{job['id']}").json["data"]["state"] == "succeeded"
    assert services.writeback.flush().sent == 2
    assert site.get("Task", task_id, ["sg_status_list"])["sg_status_list"] == "rev"
    fields = ["code", "entity", "sg_task", "project", "sg_path_to_frames", "sg_first_frame",
              "sg_last_frame", "frame_range"]  # fmt: skip
    versions = site.sg.find("Version", [], fields)
    assert len(versions) == 1
    version = versions[0]
    assert version["entity"]["id"] == shots["sh010"]["id"]
    assert version["sg_task"]["id"] == task_id
    assert version["sg_path_to_frames"] == "/renders/sh010/sh010_%04d.png"
    assert (version["sg_first_frame"], version["sg_last_frame"]) == (1, 4)
    assert version["frame_range"] == "1-4"
    assert services.writeback.flush().sent == 0  # nothing twice


def test_shotgrid_down_leaves_scheduling_working_and_marks_stale(
    api: FlaskClient, services: Services, site: Site, shots: dict[str, Any], clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    high = site.task(shots["sh010"], "fx", priority=site.flavour.high)
    low = submit(api, name="low", shotgrid={"task_id": shots["light010"]["id"]})
    top = submit(api, name="top", shotgrid={"task_id": high["id"]})
    assert services.shotgrid.sync().error == ""
    assert api.get("/api/v1/shotgrid/status").json["data"]["healthy"] is True

    site.down = True
    clock.advance(60)
    caplog.set_level(logging.DEBUG)
    report = services.shotgrid.sync()
    assert report.error and "Connection refused" in report.error
    status = api.get("/api/v1/shotgrid/status").json["data"]
    assert status["stale"] is True and status["healthy"] is False
    assert status["consecutive_failures"] == 1
    assert KEY not in status["last_error"] and KEY not in caplog.text
    assert services.shotgrid.sync(now=clock.now + 30).ran is False  # backing off
    clock.advance(61)
    services.shotgrid.sync()
    second = api.get("/api/v1/shotgrid/status").json["data"]
    assert second["consecutive_failures"] == 2
    assert second["next_attempt_at"] > status["next_attempt_at"]

    # Scheduling goes on with the last values read, and says they are stale.
    services.ranking.run_pass()
    assert queue(api) == [top["id"], low["id"]]
    reason = api.get(f"/api/v1/jobs/{top['id']}").json["data"]["rank_reason"]
    assert "last known value while ShotGrid is unreachable" in reason
    assert api.get("/api/v1/queue").json["data"]["shotgrid_stale"] is True
    by_ids = api.post("/api/v1/jobs", json=job_body(shotgrid={"task_id": high["id"]}))
    assert by_ids.status_code == 201  # ids are taken unchecked while ShotGrid is away
    by_codes = api.post("/api/v1/jobs", json=job_body(shotgrid={"shot": "sh010", "task": "fx"}))
    assert by_codes.status_code == 503 and by_codes.json["code"] == "shotgrid_unavailable"

    # A render finishing while ShotGrid is down finishes; its write-back waits.
    agent = register_agent(api)
    lease = api.post(f"/api/v1/agents/{agent}/lease").json["data"]
    assert lease["job_id"] == top["id"]
    done = api.post(
        f"/api/v1/agents/{agent}/tasks/{lease['task_id']}/complete",
        json={"attempt": 1, "outputs": []},
    )
    assert done.status_code == 200
    assert services.writeback.flush().failed == 1
    assert api.get("/api/v1/shotgrid/status").json["data"]["writeback_pending"] >= 1

    site.down = False
    clock.advance(3600)
    assert services.shotgrid.sync().error == ""
    assert services.writeback.flush().sent >= 1
    status = api.get("/api/v1/shotgrid/status").json["data"]
    assert status["healthy"] is True and status["stale"] is False
    assert status["writeback_pending"] == 0


@pytest.mark.parametrize(
    ("link", "words"),
    [
        ({"project": "nope", "shot": "sh010"}, "no project whose name is 'nope'"),
        ({"shot": "sh999"}, "has no shot 'sh999'"),
        ({"shot": "sh020", "task": "paint"}, "has no task 'paint' (its tasks: comp, lighting)"),
        ({"task_id": 9999}, "no Task with id 9999"),
    ],
)
def test_unknown_codes_are_refused_at_submission(
    api: FlaskClient, services: Services, shots: dict[str, Any], link: dict[str, Any], words: str
) -> None:
    before = snapshot(services)
    response = api.post("/api/v1/jobs", json=job_body(project="alpha", shotgrid=link))
    assert response.status_code == 400
    assert response.json["code"] == "unknown_shotgrid_link"
    assert words in response.json["message"]
    assert snapshot(services) == before


def test_the_script_key_is_never_shown(services: Services) -> None:
    client = services.jobs.shotgrid
    assert client is not None
    assert KEY not in repr(client) and KEY not in repr(services.context.settings)


@pytest.fixture
def plain_api(tmp_path: Path, clock: FakeClock) -> Iterator[FlaskClient]:
    app = create_app(Settings(data_dir=tmp_path / "plain"), clock=clock)
    yield client_as(app, user_token(app.extensions["cloudburst"], "admin", Role.ADMIN))


def test_without_a_site_codes_are_refused_and_ids_kept(plain_api: FlaskClient) -> None:
    refused = plain_api.post("/api/v1/jobs", json=job_body(shotgrid={"shot": "sh010"}))
    assert refused.status_code == 400 and refused.json["code"] == "shotgrid_not_configured"
    kept = plain_api.post("/api/v1/jobs", json=job_body(shotgrid={"task_id": 5}))
    assert kept.status_code == 201
    assert kept.json["data"]["spec"]["shotgrid"] == {
        "project_id": None, "shot_id": None, "task_id": 5, "project": None, "shot": None,
        "task": None, "asset_id": None, "asset": None,
    }  # fmt: skip
    status = plain_api.get("/api/v1/shotgrid/status").json["data"]
    assert status["configured"] is False and status["stale"] is False
