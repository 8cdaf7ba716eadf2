"""A dashboard app whose desktops run on a ``MemoryDesktops`` (the profiles and settings of
``tests/daemon/desktops/desk.py``), and what the desktops pages' tests do to it."""

from __future__ import annotations

from pathlib import Path

import requests
from flask.testing import FlaskClient

from common.models import DesktopAuditQuery, DesktopSession, SessionQuery, Snapshot, SnapshotQuery
from daemon.app import Services, create_app
from daemon.container import services_of
from tests.conftest import FakeClock
from tests.daemon.desktops.desk import desk_settings
from tests.daemon.desktops.memory_backend import MemoryDesktops
from tests.daemon.web.helpers import ROOT, csrf, sign_in


class Desks:
    """A dashboard app whose desktops run on a ``MemoryDesktops``."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock()
        self.cloud = MemoryDesktops(self.clock)
        self.app = create_app(desk_settings(tmp_path), clock=self.clock, desktop_backend=self.cloud)
        self.services: Services = services_of(self.app)

    def start(self, browser: FlaskClient, **form: str) -> int:
        """Starts a session through the page's form; returns its id (launched)."""
        form.setdefault("profile", "std")
        answer = browser.post("/sessions", data={"csrf": csrf(browser), **form})
        assert answer.status_code == 303, answer.data
        self.services.sessions.settle()
        return max(s.id for s in self.all_sessions())

    def at_work(self, name: str = "ana") -> tuple[FlaskClient, int]:
        """``name`` signed in (an artist), with a session of theirs whose desktop is ready."""
        browser = sign_in(self.app, name)
        browser.get("/sessions")
        session_id = self.start(browser)
        self.ready(session_id)
        return browser, session_id

    def take(self, browser: FlaskClient, session_id: int) -> Snapshot:
        """A snapshot of the session through the snapshots page's form."""
        answer = browser.post("/snapshots", data={"csrf": csrf(browser),
                                                  "session_id": str(session_id)})  # fmt: skip
        assert answer.status_code == 303, answer.data
        return max(self.snapshots(), key=lambda s: s.id)

    def secret(self, session_id: int) -> str:
        """The secret the daemon gave the session's desktop (through the launch)."""
        return next(x.secret for x in self.cloud.launches if x.session_id == session_id)

    def ready(self, session_id: int, url: str | None = None) -> None:
        """The session's desktop boots and reports with its own secret: through the app, or
        over real HTTP to the daemon served at ``url``."""
        self.cloud.run(self.instance(session_id))
        path = f"/api/v1/sessions/{session_id}/desktop/report"
        report = {"host": "10.0.0.7", "port": 8443}
        headers = {"Authorization": f"Bearer {self.secret(session_id)}"}
        if url is None:
            status = self.app.test_client().post(path, json=report, headers=headers).status_code
        else:
            status = requests.post(url + path, json=report, headers=headers, timeout=30).status_code
        assert status == 200

    def instance(self, session_id: int) -> str:
        return next(s.instance_id for s in self.all_sessions() if s.id == session_id) or ""

    def all_sessions(self) -> list[DesktopSession]:
        return self.services.sessions.list_sessions(SessionQuery(), ROOT)

    def session(self, session_id: int) -> DesktopSession:
        return next(s for s in self.all_sessions() if s.id == session_id)

    def snapshots(self) -> list[Snapshot]:
        return self.services.snapshots.list(SnapshotQuery(), ROOT)

    def audit_actions(self, session_id: int) -> list[str]:
        """The session's desktop audit actions, oldest first."""
        records = self.services.sessions.audit(DesktopAuditQuery(session_id=session_id))
        return [r.action for r in reversed(records)]
