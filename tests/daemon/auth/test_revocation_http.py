"""Through real HTTP (waitress on 127.0.0.1): a token the daemon has just accepted, and so keeps
in its cache of checked tokens, stops working at the very next request once it is revoked, in
the process that revoked it and in another process of the same daemon.

The app's clock is a fake one that does not move: no cache entry ever ages out here, so each
401 (or 403) comes from the revocation dropping the entry, not from its time running out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from common.accounts import Role, UserCreate
from common.config import Settings
from daemon.app import Services, create_app
from daemon.auth.keys import token_hash
from daemon.container import services_of
from tests.conftest import FakeClock
from tests.serving import serve

PASSWORD = "pat-password-1"


class Caller:
    """One HTTP session against the live daemon."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def call(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return self.http.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=10, **kwargs
        )

    def me(self, token: str) -> int:
        return self.call("GET", "/auth/me", token).status_code

    def login(self, name: str) -> dict[str, Any]:
        answer = self.http.post(
            f"{self.url}/api/v1/auth/login", json={"username": name, "password": PASSWORD},
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()["data"]
        return data


@pytest.fixture
def caller(live_url: str) -> Iterator[Caller]:
    caller = Caller(live_url)
    yield caller
    caller.http.close()


def accepted_and_kept(caller: Caller, services: Services, token: str) -> None:
    """The token works, and the daemon now answers it from its cache."""
    assert caller.me(token) == 200
    assert services.auth.credentials.get(token_hash(token)) is not None


def refused(answer: requests.Response, status: int = 401) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == ("unauthenticated" if status == 401 else "forbidden")


@pytest.fixture
def pat(services: Services) -> int:
    return services.users.create(UserCreate(name="pat", role=Role.TD, password=PASSWORD)).id


def test_logout_ends_the_access_token_at_once(caller: Caller, services: Services, pat: int) -> None:
    access = caller.login("pat")["access_token"]
    accepted_and_kept(caller, services, access)
    assert caller.call("POST", "/auth/logout", access, json={}).status_code == 200
    refused(caller.call("GET", "/auth/me", access))


def test_logout_with_the_refresh_token_ends_that_other_session_too(
    caller: Caller, services: Services, pat: int
) -> None:
    first, second = caller.login("pat"), caller.login("pat")
    accepted_and_kept(caller, services, second["access_token"])
    body = {"refresh_token": second["refresh_token"]}
    assert caller.call("POST", "/auth/logout", first["access_token"], json=body).ok
    refused(caller.call("GET", "/auth/me", second["access_token"]))


def test_a_reused_refresh_token_ends_the_session_at_once(
    caller: Caller, services: Services, pat: int
) -> None:
    pair = caller.login("pat")
    accepted_and_kept(caller, services, pair["access_token"])
    refresh = f"{caller.url}/api/v1/auth/refresh"
    body = {"refresh_token": pair["refresh_token"]}
    renewed = caller.http.post(refresh, json=body, timeout=10).json()["data"]
    accepted_and_kept(caller, services, renewed["access_token"])
    assert caller.http.post(refresh, json=body, timeout=10).status_code == 401  # reused
    refused(caller.call("GET", "/auth/me", pair["access_token"]))
    refused(caller.call("GET", "/auth/me", renewed["access_token"]))


@pytest.mark.parametrize(
    "change", [{"active": False}, {"password": "new-password-2"}], ids=["deactivated", "password"]
)
def test_deactivating_or_a_new_password_ends_the_users_sessions_at_once(
    caller: Caller, services: Services, admin_token: str, pat: int, change: dict[str, Any]
) -> None:
    access = caller.login("pat")["access_token"]
    accepted_and_kept(caller, services, access)
    assert caller.call("PUT", f"/users/{pat}", admin_token, json=change).status_code == 200
    refused(caller.call("GET", "/auth/me", access))


def test_a_deactivated_users_api_key_stops_at_once(
    caller: Caller, services: Services, admin_token: str, pat: int
) -> None:
    key = services.auth.create_api_key(pat, "script")
    accepted_and_kept(caller, services, key)
    assert caller.call("PUT", f"/users/{pat}", admin_token, json={"active": False}).ok
    refused(caller.call("GET", "/auth/me", key))


def test_a_deleted_users_tokens_stop_at_once(
    caller: Caller, services: Services, admin_token: str, pat: int
) -> None:
    key = services.auth.create_api_key(pat, "script")
    access = caller.login("pat")["access_token"]
    for token in (key, access):
        accepted_and_kept(caller, services, token)
    assert caller.call("DELETE", f"/users/{pat}", admin_token).status_code == 200
    refused(caller.call("GET", "/auth/me", key))
    refused(caller.call("GET", "/auth/me", access))


def test_a_demoted_user_loses_the_role_at_once(
    caller: Caller, services: Services, admin_token: str, pat: int
) -> None:
    key = services.auth.create_api_key(pat, "script")
    assert caller.call("POST", "/agents/enrollment-tokens", key).status_code == 201  # a TD
    assert services.auth.credentials.get(token_hash(key)) is not None
    assert caller.call("PUT", f"/users/{pat}", admin_token, json={"role": "artist"}).ok
    refused(caller.call("POST", "/agents/enrollment-tokens", key), 403)
    assert caller.call("GET", "/auth/me", key).json()["data"]["role"] == "artist"


@pytest.fixture
def second(settings: Settings, clock: FakeClock) -> Iterator[tuple[Caller, Services]]:
    """Another process of the same daemon (``server_workers``): its own app, services and
    cache of checked tokens over the same data folder and database."""
    app = create_app(settings, clock=clock)
    found = services_of(app)
    with serve(app, threads=4) as url:
        caller = Caller(url)
        yield caller, found
        caller.http.close()
    found.context.database.close()


def test_logout_in_one_process_ends_the_token_in_another_at_once(
    caller: Caller, services: Services, second: tuple[Caller, Services], pat: int
) -> None:
    other, other_services = second
    access = caller.login("pat")["access_token"]
    accepted_and_kept(other, other_services, access)
    accepted_and_kept(caller, services, access)
    assert caller.call("POST", "/auth/logout", access, json={}).status_code == 200
    refused(other.call("GET", "/auth/me", access))
    refused(caller.call("GET", "/auth/me", access))


def test_a_user_deactivated_in_one_process_is_refused_by_another_at_once(
    caller: Caller, second: tuple[Caller, Services], admin_token: str, services: Services,
    pat: int,
) -> None:  # fmt: skip
    other, other_services = second
    key = services.auth.create_api_key(pat, "script")
    accepted_and_kept(other, other_services, key)
    assert caller.call("PUT", f"/users/{pat}", admin_token, json={"active": False}).ok
    refused(other.call("GET", "/auth/me", key))
