"""Numbers too large for SQLite (2^63 and up) get a clean 404 in a path and a 400 in a query,
never a 500, on every route; the OpenAPI document states the bound. Over real HTTP."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from common.accounts import Role, UserCreate
from common.models import MAX_INTEGER, UploadCreate
from daemon.api.converters import at_most
from daemon.api.openapi import current_document
from daemon.app import Services
from daemon.web.session import CSRF_COOKIE
from tests.daemon.auth.world import World, build_world
from tests.daemon.ops.helpers import person

TOO_BIG = (str(MAX_INTEGER + 1), str(2**64), "9" * 5000)
_INT = re.compile(r"<int:(\w+)>")
_OTHER = re.compile(r"<(\w+)>")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path)


@pytest.fixture
def app(world: World) -> Flask:
    return world.app  # served by ``live_url``


@pytest.fixture
def admin(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens['admin']}"}


def id_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every route of the app with an ``<int:...>`` part."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if _INT.search(rule.rule)
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    )


def test_every_route_answers_a_too_large_id_with_a_clean_404(
    app: Flask, live_url: str, admin: dict[str, str]
) -> None:
    routes = id_routes(app)
    assert len(routes) >= 20  # the API's and the dashboard's
    for method, rule in routes:
        for number in TOO_BIG:
            path = _OTHER.sub("x", _INT.sub(number, rule))
            response = requests.request(method, live_url + path, headers=admin, timeout=30)
            assert response.status_code == 404, (method, rule, number[:30], response.text)
            assert response.json()["code"] == "not_found"


def test_the_largest_id_sqlite_holds_is_looked_up(live_url: str, admin: dict[str, str]) -> None:
    response = requests.get(f"{live_url}/api/v1/jobs/{MAX_INTEGER}", headers=admin, timeout=30)
    assert response.status_code == 404
    assert f"no job {MAX_INTEGER}" in response.json()["message"].lower()


def bounded_query_parameters() -> list[tuple[str, str, str]]:
    """(method, path, name) of every integer query parameter the document bounds by the max."""
    return [
        (method.upper(), path, param["name"])
        for path, item in current_document()["paths"].items()
        for method, op in item.items()
        for param in op.get("parameters", [])
        if param["in"] == "query" and param["schema"].get("maximum") == MAX_INTEGER
    ]


def test_every_integer_query_parameter_has_a_bound() -> None:
    """An unbounded one would reach SQLite as an integer it cannot hold (a 500)."""
    unbounded = [
        (method, path, param["name"])
        for path, item in current_document()["paths"].items()
        for method, op in item.items()
        for param in op.get("parameters", [])
        if param["in"] == "query"
        and "integer"
        in (param["schema"].get("type"), *(b.get("type") for b in param["schema"].get("anyOf", [])))
        and param["schema"].get("maximum", MAX_INTEGER + 1) > MAX_INTEGER
    ]
    assert not unbounded


def test_every_too_large_query_number_is_a_400_that_names_it(
    world: World, live_url: str, admin: dict[str, str]
) -> None:
    params = bounded_query_parameters()
    assert len(params) >= 10
    upload = world.services.files.create_upload(
        UploadCreate(path="show/a.bin", size=10), person("root", Role.ADMIN)
    )
    values: dict[str, Any] = {**world.path_params(), "upload_id": upload.id}
    for method, path, name in params:
        url = live_url + re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
        response = requests.request(
            method, url, params={name: TOO_BIG[0]}, headers=admin, data=b"", timeout=30
        )
        assert response.status_code == 400, (method, path, name, response.text)
        assert response.json()["code"] == "invalid_input"
        assert name in response.json()["message"]


def test_the_dashboard_queue_pages_past_any_offset(live_url: str, services: Services) -> None:
    services.users.create(UserCreate(name="paula", role=Role.PRODUCER, password="paula-password-1"))
    browser = requests.Session()
    browser.get(f"{live_url}/login", timeout=30)
    signed_in = browser.post(
        f"{live_url}/login", timeout=30, allow_redirects=False,
        data={"username": "paula", "password": "paula-password-1",
              "csrf": browser.cookies[CSRF_COOKIE]},
    )  # fmt: skip
    assert signed_in.status_code == 303
    response = browser.get(f"{live_url}/jobs?offset={TOO_BIG[0]}", timeout=30)
    assert response.status_code == 200 and "Queue" in response.text


def test_the_document_states_the_bound_of_every_id_in_a_path() -> None:
    for path, item in current_document()["paths"].items():
        for op in item.values():
            for param in op.get("parameters", []):
                if param["in"] == "path" and param["schema"]["type"] == "integer":
                    assert param["schema"]["minimum"] == 0, path
                    assert param["schema"]["maximum"] == MAX_INTEGER, path


@given(number=st.integers(min_value=0, max_value=10**21))
def test_the_id_pattern_takes_exactly_the_numbers_up_to_the_bound(number: int) -> None:
    for limit in (MAX_INTEGER, 250, 1009, 7):
        assert bool(re.fullmatch(at_most(limit), str(number))) == (number <= limit)
