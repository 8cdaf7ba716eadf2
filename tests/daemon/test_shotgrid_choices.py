"""The ShotGrid pick-lists over real HTTP: projects, a project's shots, a shot's tasks, read from
Mockgun and kept a sync interval, with clear answers for bad or unknown names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from common.accounts import Role
from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
)
from daemon.app import Services, create_app
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.calls import enroll_agent
from tests.daemon.shotgrid_site import BUILT, Site, make_site
from tests.serving import serve


@pytest.fixture
def site(tmp_path: Path, clock: FakeClock) -> Site:
    return make_site(BUILT, tmp_path / "schema", clock)


@pytest.fixture
def production(site: Site) -> dict[str, Any]:
    alpha = site.project("alpha")
    beta = site.project("beta")
    sh020 = site.shot(alpha, "sh020")
    sh010 = site.shot(alpha, "sh010")
    other = site.shot(beta, "sh900")
    return {
        "alpha": alpha, "sh010": sh010, "sh020": sh020, "other": other,
        "light": site.task(sh010, "lighting"), "comp": site.task(sh010, "comp"),
        "fx": site.task(sh020, "fx"), "beta_task": site.task(other, "anim"),
    }  # fmt: skip


def _app(tmp_path: Path, clock: FakeClock, site: Site | None) -> Flask:
    shotgrid: dict[str, Any] = {}
    if site is not None:
        shotgrid = {
            "site": "https://studio.shotgrid.example", "script_name": "cloudburst",
            "script_key": "SECRET-KEY-123", "sync_interval_s": 60, **BUILT.settings,
        }  # fmt: skip
    settings = Settings(data_dir=tmp_path / "data", shotgrid=shotgrid)
    return create_app(settings, clock=clock, shotgrid_connect=site.connect if site else None)


def _client(app: Flask, url: str, role: Role = Role.ARTIST) -> DaemonClient:
    found: Services = app.extensions["cloudburst"]
    token = user_token(found, "ana", role)
    return DaemonClient(url, retries=0, auth=StaticToken(token))


@pytest.fixture
def daemon(tmp_path: Path, clock: FakeClock, site: Site) -> Iterator[tuple[Flask, str]]:
    app = _app(tmp_path, clock, site)
    with serve(app, threads=2) as url:
        yield app, url


def names(choices: Any) -> list[str]:
    return [entry.name for entry in choices.items]


def test_an_artist_picks_a_project_then_its_shots_then_a_shots_tasks(
    daemon: tuple[Flask, str], production: dict[str, Any]
) -> None:
    app, url = daemon
    client = _client(app, url)
    try:
        assert names(client.shotgrid_projects()) == ["alpha", "beta"]
        shots = client.shotgrid_shots("alpha")
        assert names(shots) == ["sh010", "sh020"]
        assert [e.id for e in shots.items] == [production["sh010"]["id"], production["sh020"]["id"]]
        tasks = client.shotgrid_tasks("alpha", production["sh010"]["id"])
        assert names(tasks) == ["comp", "lighting"]
        assert not tasks.truncated
        assert names(client.shotgrid_tasks("alpha", production["sh020"]["id"])) == ["fx"]
    finally:
        client.close()


def test_lists_are_kept_a_sync_interval_not_read_per_request(
    daemon: tuple[Flask, str], production: dict[str, Any], site: Site, clock: FakeClock
) -> None:
    app, url = daemon
    client = _client(app, url)
    try:
        client.shotgrid_shots("alpha")
        asked = len(site.calls)
        for _ in range(3):
            client.shotgrid_shots("alpha")
        assert len(site.calls) == asked
        site.shot(production["alpha"], "sh030")
        assert "sh030" not in names(client.shotgrid_shots("alpha"))
        clock.advance(61)
        assert "sh030" in names(client.shotgrid_shots("alpha"))
    finally:
        client.close()


def test_shotgrid_down_serves_the_last_list_read_and_else_says_unavailable(
    daemon: tuple[Flask, str], production: dict[str, Any], site: Site, clock: FakeClock
) -> None:
    app, url = daemon
    client = _client(app, url)
    try:
        assert names(client.shotgrid_projects()) == ["alpha", "beta"]
        site.down = True
        clock.advance(120)
        assert names(client.shotgrid_projects()) == ["alpha", "beta"]
        with pytest.raises(ServiceUnavailable) as caught:
            client.shotgrid_shots("alpha")
        assert caught.value.message.startswith("ShotGrid (https://studio.shotgrid.example)")
        assert "SECRET-KEY-123" not in caught.value.message
    finally:
        client.close()


def test_unknown_project_or_foreign_shot_is_a_404_that_names_what_to_pick(
    daemon: tuple[Flask, str], production: dict[str, Any]
) -> None:
    app, url = daemon
    client = _client(app, url)
    try:
        with pytest.raises(NotFound) as caught:
            client.shotgrid_shots("gamma")
        assert "alpha" in caught.value.message and "/shotgrid/projects" in caught.value.message
        with pytest.raises(NotFound) as caught:
            client.shotgrid_tasks("alpha", production["other"]["id"])
        assert "/shotgrid/shots" in caught.value.message
    finally:
        client.close()


@pytest.mark.parametrize(
    "path",
    [
        "/shotgrid/shots",  # no project
        "/shotgrid/shots?project=alpha&limit=0",
        "/shotgrid/shots?project=alpha&limit=501",
        "/shotgrid/shots?project=alpha&colour=red",
        "/shotgrid/tasks?project=alpha",  # no shot
        "/shotgrid/tasks?project=alpha&entity_type=Sequence&entity_id=1",
        "/shotgrid/assets",  # no project
        "/shotgrid/tasks?project=alpha&entity_id=0",
        "/shotgrid/projects?limit=x",
    ],
)
def test_bad_queries_are_400s(
    daemon: tuple[Flask, str], production: dict[str, Any], path: str
) -> None:
    app, url = daemon
    client = _client(app, url)
    try:
        with pytest.raises(InvalidInput) as caught:
            client._request("GET", path)
        assert caught.value.message
    finally:
        client.close()


def test_limit_bounds_the_page_and_says_it_was_cut(
    daemon: tuple[Flask, str], production: dict[str, Any]
) -> None:
    app, url = daemon
    client = _client(app, url)
    try:
        page = client._request("GET", "/shotgrid/shots", params={"project": "alpha", "limit": 1})
        assert [e["name"] for e in page["items"]] == ["sh010"]
        assert page["truncated"] is True
    finally:
        client.close()


def test_the_lists_need_credentials(daemon: tuple[Flask, str], production: dict[str, Any]) -> None:
    _, url = daemon
    client = DaemonClient(url, retries=0)
    try:
        with pytest.raises(Unauthenticated):
            client.shotgrid_projects()
    finally:
        client.close()


def test_without_shotgrid_the_lists_say_so(tmp_path: Path, clock: FakeClock) -> None:
    app = _app(tmp_path, clock, None)
    with serve(app, threads=2) as url:
        client = _client(app, url)
        try:
            with pytest.raises(InvalidInput) as caught:
                client.shotgrid_projects()
            assert "no ShotGrid site configured" in caught.value.message
            assert client.shotgrid_status().configured is False
        finally:
            client.close()


def test_render_nodes_may_not_list_shotgrid(
    daemon: tuple[Flask, str], production: dict[str, Any]
) -> None:
    app, url = daemon
    found: Services = app.extensions["cloudburst"]
    td = client_as(app, user_token(found, "tom", Role.TD))
    _agent_id, agent_token = enroll_agent(td)
    client = DaemonClient(url, retries=0, auth=StaticToken(agent_token))
    try:
        with pytest.raises(Forbidden):
            client.shotgrid_projects()
    finally:
        client.close()


def test_a_project_past_the_first_page_is_still_found(
    daemon: tuple[Flask, str], production: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("daemon.services.shotgrid_choices.PICK_MAX", 1)
    app, url = daemon
    client = _client(app, url)
    try:
        first = client.shotgrid_projects()
        assert names(first) == ["alpha"] and first.truncated
        assert names(client.shotgrid_shots("beta")) == ["sh900"]
    finally:
        client.close()
