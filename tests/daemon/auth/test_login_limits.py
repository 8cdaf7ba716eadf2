"""Sign-in attempts are limited per user and per address; the fake clock ends the window."""

from __future__ import annotations

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


@pytest.fixture
def users(services: Services) -> None:
    for name in ("pat", "sam"):
        services.users.create(UserCreate(name=name, role=Role.ARTIST, password=f"{name}-password"))


def test_a_user_is_locked_for_the_window_after_five_failures(
    anonymous_api: FlaskClient, users: None, clock: FakeClock
) -> None:
    for i in range(5):
        assert attempt(anonymous_api, "pat", "wrong", f"10.0.0.{i + 10}") == 401
    # Right password, new address: still refused, the user's own limit is spent.
    assert attempt(anonymous_api, "pat", "pat-password", "10.9.9.9") == 429
    assert attempt(anonymous_api, "sam", "sam-password", "10.9.9.9") == 200
    clock.advance(301)
    assert attempt(anonymous_api, "pat", "pat-password", "10.9.9.9") == 200


def test_an_address_is_locked_after_failures_on_many_users(
    anonymous_api: FlaskClient, users: None, clock: FakeClock
) -> None:
    for i in range(5):
        assert attempt(anonymous_api, f"guess{i}", "wrong", "10.6.6.6") == 401
    assert attempt(anonymous_api, "sam", "sam-password", "10.6.6.6") == 429
    assert attempt(anonymous_api, "sam", "sam-password", "10.7.7.7") == 200


def test_the_limiter_forgets_a_user_after_a_success() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(max_failures=2, window_s=60, clock=clock)
    limiter.failed("user pat", "address a")
    limiter.succeeded("user pat")
    limiter.failed("user pat")
    limiter.check("user pat")
    limiter.failed("user pat")
    with pytest.raises(RateLimited) as caught:
        limiter.check("user pat")
    assert caught.value.status == 429 and caught.value.details == {"retry_after_s": 60.0}
