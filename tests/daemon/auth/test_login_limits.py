"""Sign-in attempts are limited per (name, address) and per address, never per name alone: a
guessing address locks only itself out. The fake clock ends the window."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from common.accounts import Role, UserCreate
from common.errors import RateLimited
from daemon.app import Services
from daemon.auth.limiter import LoginLimiter
from tests.conftest import FakeClock


def attempt(client: FlaskClient, user: str, password: str, address: str = "10.0.0.1") -> int:
    response = client.post(
        "/api/v1/auth/login", json={"username": user, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )  # fmt: skip
    return response.status_code


def login_from(
    url: str, source: str, user: str, password: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    """Signs in over a real socket bound to ``source`` (127.0.0.x: any of them is loopback)."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request(
            "POST", "/api/v1/auth/login", json.dumps({"username": user, "password": password}),
            {"Content-Type": "application/json", **(headers or {})},
        )  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


@pytest.fixture
def users(services: Services) -> None:
    for name in ("pat", "sam"):
        services.users.create(UserCreate(name=name, role=Role.ARTIST, password=f"{name}-password"))


def test_failures_lock_a_name_only_for_the_address_they_came_from(
    anonymous_api: FlaskClient, users: None, clock: FakeClock
) -> None:
    for _ in range(5):
        assert attempt(anonymous_api, "pat", "wrong", "10.0.0.1") == 401
    assert attempt(anonymous_api, "pat", "pat-password", "10.0.0.1") == 429
    # The owner, from their own machine, is not locked out by someone else's guesses.
    assert attempt(anonymous_api, "pat", "pat-password", "10.9.9.9") == 200
    # The guessing address keeps its budget for other names (an office behind one NAT).
    assert attempt(anonymous_api, "sam", "sam-password", "10.0.0.1") == 200
    clock.advance(301)
    assert attempt(anonymous_api, "pat", "pat-password", "10.0.0.1") == 200


def test_guessing_one_name_from_many_addresses_never_locks_its_owner_out(
    anonymous_api: FlaskClient, users: None
) -> None:
    for i in range(12):
        assert attempt(anonymous_api, "pat", "wrong", f"10.1.{i}.1") == 401
    assert attempt(anonymous_api, "pat", "pat-password", "10.9.9.9") == 200


def test_an_address_is_locked_after_failures_on_many_names(
    anonymous_api: FlaskClient, users: None, services: Services
) -> None:
    budget = services.context.settings.auth.login_address_max_failures
    for i in range(budget):
        assert attempt(anonymous_api, f"guess{i}", "wrong", "10.6.6.6") == 401
    assert attempt(anonymous_api, "sam", "sam-password", "10.6.6.6") == 429
    assert attempt(anonymous_api, "sam", "sam-password", "10.7.7.7") == 200


def test_over_real_sockets_only_the_guessing_address_is_refused(live_url: str, users: None) -> None:
    for _ in range(5):
        assert login_from(live_url, "127.0.0.2", "pat", "wrong")[0] == 401
    status, headers = login_from(live_url, "127.0.0.2", "pat", "pat-password")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    # The address is the socket's peer: a forwarded-for header claimed by the client is ignored.
    spoofed = login_from(
        live_url, "127.0.0.2", "pat", "pat-password", {"X-Forwarded-For": "10.20.30.40"}
    )
    assert spoofed[0] == 429
    assert login_from(live_url, "127.0.0.3", "pat", "pat-password")[0] == 200


def test_the_limiter_forgets_a_pair_after_a_success_but_not_the_address() -> None:
    limiter = LoginLimiter(per_name=2, per_address=3, window_s=60, clock=FakeClock())
    limiter.failed("pat", "a")
    limiter.succeeded("pat", "a")
    limiter.failed("pat", "a")
    limiter.check("pat", "a")
    limiter.failed("pat", "a")
    with pytest.raises(RateLimited) as caught:
        limiter.check("pat", "a")
    assert caught.value.status == 429 and caught.value.details == {"retry_after_s": 60.0}
    limiter.check("pat", "b")
    limiter.succeeded("pat", "a")  # three failures from "a" in all: its own budget is spent
    with pytest.raises(RateLimited, match="sign-ins from your address"):
        limiter.check("sam", "a")


def test_checking_costs_no_memory_and_failures_stay_under_the_cap() -> None:
    limiter = LoginLimiter(per_name=5, per_address=20, window_s=300, clock=FakeClock(),
                           max_keys=100)  # fmt: skip
    for i in range(5000):
        limiter.check(f"nobody{i}", "10.0.0.1")
    assert len(limiter) == 0
    for i in range(5000):
        limiter.failed(f"nobody{i}", f"10.{i // 250}.{i % 250}.1")
    assert len(limiter) == 100
    # The oldest were forgotten, the newest are still counted.
    limiter.check("nobody0", "10.0.0.1")
    limiter.failed("pat", "10.99.0.1")
    for _ in range(4):
        limiter.failed("pat", "10.99.0.1")
    with pytest.raises(RateLimited):
        limiter.check("pat", "10.99.0.1")
