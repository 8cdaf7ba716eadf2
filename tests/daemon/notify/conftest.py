"""A daemon whose webhooks may call 127.0.0.1 (where the test receiver listens), served over
real HTTP, with people of each role and a way to make jobs end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from common.accounts import Role
from common.config import Settings
from common.models import AgentRegistration, JobSpec, TaskDone, TaskFailure
from common.webhook_settings import WebhookSettings
from daemon.app import Services, create_app
from tests.conftest import FakeClock, user_token
from tests.daemon.notify.receiver import Receiver, receiver
from tests.daemon.web.helpers import ROOT
from tests.serving import serve


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    hooks = WebhookSettings(internal_hosts=["127.0.0.1"], retry_base_s=30, max_attempts=3,
                            public_url="https://farm.studio.example")  # fmt: skip
    return Settings(data_dir=tmp_path / "data", lease_ttl_s=30, webhooks=hooks)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Flask:
    return create_app(settings, clock=clock)


@pytest.fixture
def daemon_url(app: Flask) -> Iterator[str]:
    with serve(app, threads=4) as url:
        yield url


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as found:
        yield found


class People:
    """API keys of ana (artist), ben (artist), pam (producer), tess (TD), root (admin)."""

    def __init__(self, services: Services) -> None:
        self.tokens = {
            name: user_token(services, name, role)
            for name, role in (("ana", Role.ARTIST), ("ben", Role.ARTIST),
                               ("pam", Role.PRODUCER), ("tess", Role.TD), ("root", Role.ADMIN))
        }  # fmt: skip

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def people(services: Services) -> People:
    return People(services)


def add_webhook(daemon_url: str, people: People, who: str, **body: Any) -> requests.Response:
    return requests.post(f"{daemon_url}/api/v1/webhooks", json=body,
                         headers=people.headers(who), timeout=10)  # fmt: skip


def submit(services: Services, owner: str = "ana", project: str = "show", **extra: Any) -> int:
    spec = JobSpec(name=f"{owner} shot", owner=owner, project=project, scene="/p/s.blend",
                   frames="1-2", chunk_size=2, output="/renders/x/f_####", **extra)  # fmt: skip
    return services.jobs.submit(spec).id


def agent(services: Services, name: str = "node01") -> str:
    return services.enrollment.register(AgentRegistration(name=name, hostname=name), ROOT).id


def finish(services: Services, agent_id: str, *, fail: bool = False, error: str = "boom") -> None:
    """Leases every task there is and completes (or fails) each."""
    while (task := services.agents.lease(agent_id)) is not None:
        if fail:
            services.agents.fail(agent_id, task.task_id,
                                 TaskFailure(attempt=task.attempt, error=error))  # fmt: skip
        else:
            services.agents.complete(agent_id, task.task_id,
                                     TaskDone(attempt=task.attempt, outputs=[]))  # fmt: skip
