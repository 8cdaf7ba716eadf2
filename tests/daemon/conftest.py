"""A fresh daemon app with a temporary database for every test."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.config import Settings
from daemon.app import Services, create_app
from tests.conftest import FakeClock


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Flask:
    return create_app(settings, clock=clock)


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def services(app: Flask) -> Services:
    services: Services = app.extensions["cloudburst"]
    return services


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "shot010 lighting",
        "owner": "ana",
        "project": "show",
        "scene": "/proj/shot010.blend",
        "frames": "1-10",
        "chunk_size": 3,
        "output": "/renders/shot010/f_####",
    }
    body.update(overrides)
    return body
