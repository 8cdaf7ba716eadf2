"""Signing in and out of the dashboard: the cookie, redirects, CSRF."""

from __future__ import annotations

import pytest
from flask import Flask

from common.accounts import Role
from daemon.app import Services
from daemon.web.session import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import FakeClock
from tests.daemon.web.helpers import PASSWORD, csrf, sign_in, submit


@pytest.mark.parametrize("path", ["/jobs", "/jobs/1", "/farm", "/users"])
def test_pages_send_strangers_to_sign_in(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_signing_in_sets_a_strict_httponly_session_cookie(app: Flask) -> None:
    client = sign_in(app, "ana")
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert client.get_cookie(CSRF_COOKIE).http_only  # type: ignore[union-attr]
    page = client.get("/jobs")
    assert page.status_code == 200
    assert b"ana" in page.data and b"Sign out" in page.data


def test_sign_in_goes_back_where_it_was_sent_from_but_never_off_site(app: Flask) -> None:
    services: Services = app.extensions["cloudburst"]
    from common.accounts import UserCreate

    services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))
    client = app.test_client()
    client.get("/login")
    for target, expected in [("/farm", "/farm"), ("//evil.example/x", "/jobs"),
                             ("https://evil.example/", "/jobs")]:  # fmt: skip
        response = client.post("/login", data={"username": "ana", "password": PASSWORD,
                                               "csrf": csrf(client), "next": target})  # fmt: skip
        assert response.headers["Location"] == expected


def test_a_wrong_password_shows_the_reason_and_sets_no_session(app: Flask) -> None:
    sign_in(app, "ana")
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "ana", "password": "nope-nope-1",
                                           "csrf": csrf(client)})  # fmt: skip
    assert response.status_code == 401
    assert b"Wrong user name or password." in response.data
    assert client.get_cookie(SESSION_COOKIE) is None


def test_a_login_post_without_the_csrf_token_is_refused(app: Flask) -> None:
    sign_in(app, "ana")
    client = app.test_client()
    response = client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get_cookie(SESSION_COOKIE) is None


def test_a_form_posted_from_another_site_is_refused(app: Flask) -> None:
    services: Services = app.extensions["cloudburst"]
    job_id = submit(services, owner="ana")
    client = sign_in(app, "ana")
    response = client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf(client)},
                           headers={"Origin": "https://evil.example"})  # fmt: skip
    assert response.status_code == 403
    assert services.jobs.get(job_id).state.value == "queued"


def test_signing_out_revokes_the_session(app: Flask) -> None:
    client = sign_in(app, "ana")
    old = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    response = client.post("/logout", data={"csrf": csrf(client)})
    assert response.status_code == 303
    assert client.get_cookie(SESSION_COOKIE) is None
    stale = app.test_client()
    stale.set_cookie(SESSION_COOKIE, old)
    assert stale.get("/jobs").status_code == 302  # the tokens themselves are revoked


def test_the_cookie_reaches_api_reads_but_never_api_writes(app: Flask) -> None:
    services: Services = app.extensions["cloudburst"]
    job_id = submit(services, owner="ana")
    client = sign_in(app, "ana")
    assert client.get(f"/api/v1/jobs/{job_id}").json["data"]["id"] == job_id
    response = client.delete(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 401
    assert services.jobs.get(job_id).state.value == "queued"


def test_an_expired_access_token_is_refreshed_quietly(app: Flask, clock: FakeClock) -> None:
    client = sign_in(app, "ana")
    before = client.get_cookie(SESSION_COOKIE).value  # type: ignore[union-attr]
    clock.advance(3600)  # the 15-minute access token is long expired
    assert client.get("/jobs").status_code == 200
    assert client.get_cookie(SESSION_COOKIE).value != before  # type: ignore[union-attr]
