"""Jobs that render a ShotGrid Asset (a character, a prop) instead of a shot, over real HTTP with
a Mockgun site: the project's assets and an asset's tasks are listed; a link by asset code is
resolved and stored as the asset; the jobs of one asset are listed; a link naming a shot and an
asset, an unknown asset, or a task of another entity is refused and stores nothing; a job
stored before assets could be named reads as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from common.accounts import Role
from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.errors import InvalidInput, NotFound
from common.models import JobSpec
from daemon.app import Services, create_app
from tests.conftest import FakeClock, user_token
from tests.daemon.calls import job_body, snapshot
from tests.daemon.shotgrid_site import BUILT, Site, make_site
from tests.serving import serve


@pytest.fixture
def site(tmp_path: Path, clock: FakeClock) -> Site:
    return make_site(BUILT, tmp_path / "schema", clock)


@pytest.fixture
def production(site: Site) -> dict[str, Any]:
    alpha, beta = site.project("alpha"), site.project("beta")
    sh010 = site.shot(alpha, "sh010")
    chair, robot = site.asset(alpha, "chair"), site.asset(alpha, "robot", "Character")
    lamp = site.asset(beta, "lamp")
    return {
        "sh010": sh010, "chair": chair, "robot": robot, "lamp": lamp,
        "light": site.task(sh010, "lighting"), "model": site.task(chair, "model"),
        "look": site.task(chair, "lookdev"), "rig": site.task(robot, "rig"),
    }  # fmt: skip


@pytest.fixture
def daemon(tmp_path: Path, clock: FakeClock, site: Site) -> Iterator[tuple[Services, str]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        shotgrid={"site": "https://studio.shotgrid.example", "script_name": "cloudburst",
                  "script_key": "SECRET-KEY-123", **BUILT.settings},
    )  # fmt: skip
    app: Flask = create_app(settings, clock=clock, shotgrid_connect=site.connect)
    with serve(app, threads=2) as url:
        yield app.extensions["cloudburst"], url


def _client(services: Services, url: str, role: Role = Role.TD) -> DaemonClient:
    return DaemonClient(url, retries=0, auth=StaticToken(user_token(services, "td1", role)))


def _spec(name: str = "chair turntable", **link: Any) -> JobSpec:
    return JobSpec.model_validate(job_body(name=name, owner="td1", frames="1", shotgrid=link))


def names(choices: Any) -> list[str]:
    return [entry.name for entry in choices.items]


def test_the_projects_assets_and_an_assets_tasks_are_listed(
    daemon: tuple[Services, str], production: dict[str, Any]
) -> None:
    client = _client(*daemon)
    assets = client.shotgrid_assets("alpha")
    assert names(assets) == ["chair", "robot"]  # not beta's lamp, not the shots
    assert [e.id for e in assets.items] == [production["chair"]["id"], production["robot"]["id"]]
    tasks = client.shotgrid_tasks("alpha", production["chair"]["id"], "Asset")
    assert names(tasks) == ["lookdev", "model"]
    assert names(client.shotgrid_shots("alpha")) == ["sh010"]  # shots are listed as before
    with pytest.raises(NotFound) as caught:
        client.shotgrid_tasks("alpha", production["lamp"]["id"], "Asset")  # beta's asset
    assert "/shotgrid/assets" in caught.value.message
    with pytest.raises(NotFound):
        client.shotgrid_tasks("alpha", production["robot"]["id"])  # an asset is no shot


def test_a_job_linked_by_asset_code_stores_the_asset_and_is_listed_by_it(
    daemon: tuple[Services, str], production: dict[str, Any]
) -> None:
    services, url = daemon
    client = _client(services, url)
    chair = production["chair"]["id"]
    job = client.submit(_spec(project="alpha", asset="chair", task="lookdev"))
    link = job.spec.shotgrid
    assert link is not None
    assert (link.asset_id, link.task_id, link.shot_id) == (chair, production["look"]["id"], None)
    rows = services.context.database.db.query(
        "SELECT entity_type, entity_id, task_id FROM job_links WHERE job_id = ?", [job.id]
    )
    assert list(rows) == [
        {"entity_type": "Asset", "entity_id": chair, "task_id": production["look"]["id"]}
    ]
    by_task = client.submit(_spec("robot rig", task_id=production["rig"]["id"]))
    assert by_task.spec.shotgrid is not None
    assert by_task.spec.shotgrid.asset_id == production["robot"]["id"]
    shot = client.submit(_spec("sh010 light", project="alpha", shot="sh010", task="lighting"))

    assert chair == production["sh010"]["id"]  # ShotGrid numbers each entity type on its own
    assert [j.id for j in client.jobs(asset=chair).items] == [job.id]
    assert [j.id for j in client.jobs(shot=chair).items] == [shot.id]
    assert [j.id for j in client.jobs(asset=production["robot"]["id"]).items] == [by_task.id]


@pytest.mark.parametrize(
    ("link", "code", "words"),
    [
        ({"project": "alpha", "shot": "sh010", "asset": "chair"}, "invalid_input",
         "names a shot or an asset, not both"),
        ({"project": "alpha", "asset": "sofa"}, "unknown_shotgrid_link",
         "ShotGrid project 'alpha' has no asset 'sofa'"),
        ({"project": "alpha", "asset": "chair", "task": "rig"}, "unknown_shotgrid_link",
         "ShotGrid asset 'chair' has no task 'rig' (its tasks: lookdev, model)"),
        ({"asset_id": "{lamp}", "project": "alpha"}, "unknown_shotgrid_link",
         "ShotGrid Asset {lamp} is not in project 'alpha'. Pick one of that project's assets"),
        ({"shot_id": "{sh010}", "project": "beta"}, "unknown_shotgrid_link",
         "ShotGrid Shot {sh010} is not in project 'beta'"),
        ({"shot": "sh010", "task_id": "{model}"}, "unknown_shotgrid_link",
         "belongs to Asset {chair}, not Shot 'sh010'"),
        ({"asset_id": "{robot}", "task_id": "{model}"}, "unknown_shotgrid_link",
         "belongs to Asset {chair}, not Asset {robot}"),
    ],
)  # fmt: skip
def test_a_bad_asset_link_is_refused_and_stores_nothing(
    daemon: tuple[Services, str],
    production: dict[str, Any],
    link: dict[str, Any],
    code: str,
    words: str,
) -> None:
    services, url = daemon
    token = user_token(services, "td1", Role.TD)
    ids = {key: entity["id"] for key, entity in production.items()}
    filled = {k: v.format(**ids) if isinstance(v, str) and "{" in v else v for k, v in link.items()}
    filled = {k: int(v) if k.endswith("_id") else v for k, v in filled.items()}
    before = snapshot(services)
    response = requests.post(
        f"{url}/api/v1/jobs",
        json=job_body(owner="td1", frames="1", shotgrid=filled),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == code and body["data"] is None
    assert words.format(**ids) in body["message"]
    assert snapshot(services) == before


def test_a_job_stored_before_assets_reads_as_before(
    daemon: tuple[Services, str], production: dict[str, Any]
) -> None:
    services, url = daemon
    client = _client(services, url)
    job = client.submit(_spec("sh010 light", project="alpha", shot="sh010", task="lighting"))
    db = services.context.database.db
    stored = json.loads(db.execute("SELECT spec FROM jobs WHERE id = ?", [job.id]).fetchone()[0])
    for key in ("asset", "asset_id"):  # as a daemon before assets wrote it
        del stored["shotgrid"][key]
    with db.conn:
        db.execute("UPDATE jobs SET spec = ? WHERE id = ?", [json.dumps(stored), job.id])
    shown = client.job(job.id).spec.shotgrid
    assert shown is not None
    assert (shown.shot, shown.shot_id, shown.task_id) == (
        "sh010", production["sh010"]["id"], production["light"]["id"],
    )  # fmt: skip
    assert shown.entity is not None and shown.entity.type == "Shot"
    assert shown.asset is None and shown.asset_id is None
    assert [j.id for j in client.jobs(shot=production["sh010"]["id"]).items] == [job.id]


def test_the_asset_list_needs_a_project(daemon: tuple[Services, str]) -> None:
    client = _client(*daemon)
    with pytest.raises(InvalidInput) as caught:
        client._request("GET", "/shotgrid/assets")
    assert "project" in caught.value.message
