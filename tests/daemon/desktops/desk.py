"""A daemon with desktops, served by waitress on 127.0.0.1, its cloud a ``MemoryDesktops`` and
its clock a ``FakeClock``, and the calls people and desktops make to it over real HTTP.

Profiles: ``std`` (project ``show``, 3.60 an hour), ``secret`` (the confidential project
``vault``), ``any`` (no project of its own). People: ``ana`` and ``ben`` (artists), ``tess``
(TD), ``pam`` (producer), ``root`` (admin).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from common.accounts import Role
from common.config import Settings
from common.desktop_settings import DesktopProfile, SessionSettings
from daemon.app import Services, create_app
from daemon.container import services_of
from tests.conftest import FakeClock, user_token
from tests.daemon.calls import snapshot
from tests.daemon.desktops.memory_backend import MemoryDesktops
from tests.serving import serve

PEOPLE = {"ana": Role.ARTIST, "ben": Role.ARTIST, "tess": Role.TD, "pam": Role.PRODUCER,
          "root": Role.ADMIN}  # fmt: skip
PROFILES = [
    DesktopProfile(
        name="std",
        projects=["show"],
        price_per_hour=3.6,
        ocpus=8,
        memory_gb=64,
        gpus=1,
        max_duration_h=10,
    ),
    DesktopProfile(name="secret", projects=["vault"], price_per_hour=7.2),
    DesktopProfile(name="any", idle_timeout_s=1800),
]
SESSIONS = SessionSettings(
    max_sessions_per_user=2, warn_before_end_s=900, end_grace_s=120, boot_timeout_s=900,
    report_timeout_s=180, connection_token_ttl_s=120,
)  # fmt: skip


@dataclass
class Desk:
    url: str
    services: Services
    clock: FakeClock
    cloud: MemoryDesktops
    tokens: dict[str, str]
    http: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, as_: str | None = "ana", **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        return self.http.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kw
        )

    def data(self, method: str, path: str, as_: str = "ana", **kw: Any) -> Any:
        answer = self.call(method, path, as_, **kw)
        assert answer.status_code < 300, answer.text
        return answer.json()["data"]

    def start(self, as_: str = "ana", **body: Any) -> dict[str, Any]:
        """Starts a session (``std`` unless told) and waits for its launch."""
        body.setdefault("profile", "std")
        answer = self.call("POST", "/sessions", as_, json=body)
        assert answer.status_code == 201, answer.text
        self.services.sessions.settle()
        session: dict[str, Any] = answer.json()["data"]
        return session

    def secret(self, session_id: int) -> str:
        """The secret the daemon gave the session's desktop (through the launch)."""
        return next(x.secret for x in self.cloud.launches if x.session_id == session_id)

    def instance(self, session_id: int) -> str:
        row = self.services.context.database.db.execute(
            "SELECT instance_id FROM desktop_sessions WHERE id = ?", [session_id]
        ).fetchone()
        return str(row[0])

    def report(self, session_id: int, secret: str | None = None, **body: Any) -> requests.Response:
        """The desktop of ``session_id`` reports (with its own secret unless told)."""
        body.setdefault("host", "10.0.0.7")
        body.setdefault("port", 8443)
        secret = self.secret(session_id) if secret is None else secret
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return self.call("POST", f"/sessions/{session_id}/desktop/report", None, json=body,
                         headers=headers)  # fmt: skip

    def redeem(self, session_id: int, token: str, secret: str | None = None) -> requests.Response:
        secret = self.secret(session_id) if secret is None else secret
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return self.call(
            "POST", f"/sessions/{session_id}/desktop/redeem", None, json={"token": token},
            headers=headers,
        )  # fmt: skip

    def ready(self, as_: str = "ana", **body: Any) -> dict[str, Any]:
        """A session whose desktop has booted and reported."""
        session = self.start(as_, **body)
        self.cloud.run(self.instance(session["id"]))
        assert self.report(session["id"]).status_code == 200
        return session

    def audit(self, session_id: int) -> list[str]:
        """The session's audit actions, oldest first."""
        rows = self.data("GET", f"/audit/desktops?session_id={session_id}", as_="root")
        return [r["action"] for r in reversed(rows)]

    def state(self) -> dict[str, Any]:
        """Every row the API could change, to prove a refusal changed nothing."""
        return dict(snapshot(self.services)) | {"cloud": list(self.cloud.calls)}


def desk_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", desktops=PROFILES, sessions=SESSIONS,
        auth={"confidential_projects": ["vault"]},
    )  # fmt: skip


@contextmanager
def running_desk(tmp_path: Path) -> Iterator[Desk]:
    clock = FakeClock()
    cloud = MemoryDesktops(clock)
    app = create_app(desk_settings(tmp_path), clock=clock, desktop_backend=cloud)
    services = services_of(app)
    tokens = {name: user_token(services, name, role) for name, role in PEOPLE.items()}
    with serve(app, threads=8) as url:
        desk = Desk(url=url, services=services, clock=clock, cloud=cloud, tokens=tokens)
        try:
            yield desk
        finally:
            desk.http.close()
            services.sessions.close()
