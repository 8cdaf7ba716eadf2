"""A daemon served by waitress on 127.0.0.1 with a clock the test moves, and the calls a
farm makes to it over real HTTP: people's (jobs, agents) and the agent protocol's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from common.accounts import Role
from common.config import Settings
from common.failure_settings import FailureSettings
from daemon.app import Services, create_app
from daemon.container import services_of
from tests.conftest import FakeClock, user_token
from tests.daemon.calls import job_body
from tests.serving import serve


@dataclass
class Farm:
    """One daemon over HTTP; ``admin``, ``td`` and ``artist`` are tokens (the admin also
    speaks for the agents, as the agent protocol lets it)."""

    url: str
    services: Services
    clock: FakeClock
    tokens: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, as_: str = "admin", **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"}
        return self.session.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=60, **kw
        )

    def data(self, method: str, path: str, as_: str = "admin", **kw: Any) -> Any:
        """The answer's data; the call must succeed."""
        response = self.call(method, path, as_, **kw)
        assert response.status_code < 300, response.text
        return response.json()["data"]

    def submit(self, **overrides: Any) -> int:
        return int(self.data("POST", "/jobs", json=job_body(**overrides))["id"])

    def job(self, job_id: int) -> dict[str, Any]:
        job: dict[str, Any] = self.data("GET", f"/jobs/{job_id}")
        return job

    def tasks(self, job_id: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.data("GET", f"/jobs/{job_id}/tasks")["items"]
        return items

    def agent(self, name: str, memory_mb: int = 16_000) -> str:
        body = {"name": name, "hostname": name, "dccs": ["blender"], "memory_mb": memory_mb}
        return str(self.data("POST", "/agents", json=body)["id"])

    def agents(self) -> dict[str, dict[str, Any]]:
        return {agent["id"]: agent for agent in self.data("GET", "/agents")}

    def lease(self, agent_id: str) -> dict[str, Any] | None:
        response = self.call("POST", f"/agents/{agent_id}/lease")
        if response.status_code == 204:
            return None
        assert response.status_code == 200, response.text
        lease: dict[str, Any] = response.json()["data"]
        return lease

    def fail(
        self, agent_id: str, lease: dict[str, Any], error: str, error_class: str | None = None
    ) -> requests.Response:
        body: dict[str, Any] = {"attempt": lease["attempt"], "error": error}
        if error_class is not None:
            body["error_class"] = error_class
        return self.call("POST", f"/agents/{agent_id}/tasks/{lease['task_id']}/fail", json=body)

    def complete(self, agent_id: str, lease: dict[str, Any]) -> requests.Response:
        outputs = [f"/renders/shot010/f_{frame:04d}.png" for frame in lease["frames"]]
        body = {"attempt": lease["attempt"], "outputs": outputs}
        return self.call("POST", f"/agents/{agent_id}/tasks/{lease['task_id']}/complete", json=body)


@contextmanager
def serve_farm(tmp_path: Path, **failures: Any) -> Iterator[Farm]:
    """A daemon on ``tmp_path`` with ``[failures]`` settings ``failures``, served over HTTP."""
    clock = FakeClock()
    settings = Settings(
        data_dir=tmp_path / "data", lease_ttl_s=30, heartbeat_interval_s=1, poll_interval_s=0.2,
        failures=FailureSettings(**failures),
    )  # fmt: skip
    app = create_app(settings, clock=clock)
    services = services_of(app)
    tokens = {
        "admin": user_token(services, "root", Role.ADMIN),
        "td": user_token(services, "tess", Role.TD),
        "artist": user_token(services, "ana", Role.ARTIST),
    }
    with serve(app, threads=4) as url:
        farm = Farm(url=url, services=services, clock=clock, tokens=tokens)
        try:
            yield farm
        finally:
            farm.session.close()
