"""Who the panel submits as, in real Qt (offscreen) against a real daemon served by waitress:
the account signed in with ``cloudburst login``'s kept tokens, never the machine's login."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from common.accounts import Role, UserCreate
from common.client import DaemonClient
from common.config import Settings
from common.credentials import SignedIn
from common.errors import Unauthenticated
from common.models import JobSpec
from common.qt import SubmitPanel
from common.qt.settings_store import SettingsStore
from common.token_store import FileStore
from daemon.app import Services
from tests.common.qt.fake_host import FakeHost
from tests.common.qt.test_panel import make_info
from tests.conftest import FakeClock

PASSWORD = "ana-password-1"


@pytest.fixture
def tokens(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "tokens.json")


@pytest.fixture
def ana(services: Services, monkeypatch: pytest.MonkeyPatch) -> str:
    """The artist ``ana``, with a password, on a machine logged in as ``root``."""
    monkeypatch.setattr(getpass, "getuser", lambda: "root")
    services.users.create(UserCreate(name="ana", role=Role.ARTIST, password=PASSWORD))
    return "ana"


def cloudburst_login(url: str, tokens: FileStore) -> None:
    """What ``cloudburst login`` keeps."""
    pair = DaemonClient(url, retries=0).login("ana", PASSWORD)
    SignedIn(tokens, url).save(pair.model_dump(mode="json"))


@pytest.fixture
def open_panel(qtbot: QtBot, tmp_path: Path, live_url: str, tokens: FileStore) -> Iterator[Any]:
    panels: list[SubmitPanel] = []

    def open_() -> SubmitPanel:
        folder = tmp_path / "show" / "sh010"
        folder.mkdir(parents=True, exist_ok=True)
        panel = SubmitPanel(
            FakeHost(make_info(folder), []), config=Settings(daemon_url=live_url),
            store=SettingsStore(tmp_path / "panel.json"), tokens=tokens, poll_interval_ms=100,
        )  # fmt: skip
        qtbot.addWidget(panel)
        panels.append(panel)
        qtbot.waitUntil(lambda: panel.daemon_ok is not None, timeout=10_000)
        return panel

    yield open_
    for panel in panels:
        panel.shutdown()
        panel.pool.waitForDone(10_000)


def test_the_signed_in_artist_owns_the_job_not_the_machine_login(
    qtbot: QtBot, open_panel: Any, live_url: str, tokens: FileStore, ana: str,
    services: Services,
) -> None:  # fmt: skip
    someone = services.jobs.submit(
        JobSpec(name="root's", owner="root", scene="/s/a.blend", frames="1", output="/r/a_####")
    )
    cloudburst_login(live_url, tokens)
    panel = open_panel()
    qtbot.waitUntil(lambda: panel.owner == "ana", timeout=10_000)
    assert panel.account.label.text() == "Signed in as ana (artist)"
    assert panel.account.sign_out_button.isVisibleTo(panel)
    assert not panel.account.sign_in_button.isVisibleTo(panel)
    assert panel.submit_button.isEnabled()

    with qtbot.waitSignal(panel.submitted, timeout=10_000) as sent:
        qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    job = services.jobs.get(sent.args[0].id)
    assert (job.spec.owner, job.submitted_by) == ("ana", "ana")
    qtbot.waitUntil(lambda: [j.id for j in panel.recent.jobs] == [job.id], timeout=10_000)
    assert someone.id not in [j.id for j in panel.recent.jobs]


def test_an_expired_sign_in_is_said_plainly_and_signing_in_again_keeps_the_tokens(
    qtbot: QtBot, open_panel: Any, live_url: str, tokens: FileStore, ana: str,
    clock: FakeClock,
) -> None:  # fmt: skip
    cloudburst_login(live_url, tokens)
    clock.advance(31 * 86400)  # past the refresh token's life too
    panel = open_panel()
    qtbot.waitUntil(lambda: "expired" in panel.account.label.text(), timeout=10_000)
    assert panel.account.label.text() == (
        f"Your sign-in to {live_url} has expired. Sign in again to submit."
    )
    assert panel.owner is None and not panel.submit_button.isEnabled()
    assert panel.account.sign_in_button.isVisibleTo(panel)

    panel.account.user_field.setText("ana")
    panel.account.password_field.setText(PASSWORD)
    qtbot.mouseClick(panel.account.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.owner == "ana", timeout=10_000)
    qtbot.waitUntil(panel.submit_button.isEnabled, timeout=10_000)  # the daemon checked again
    assert panel.account.password_field.text() == ""
    kept = tokens.load(live_url)
    assert kept is not None and kept["user"] == "ana"
    me = DaemonClient(live_url, retries=0, auth=SignedIn(tokens, live_url)).me()
    assert me.name == "ana"


def test_a_wrong_password_is_shown_and_nothing_is_kept(
    qtbot: QtBot, open_panel: Any, live_url: str, tokens: FileStore, ana: str
) -> None:
    panel = open_panel()
    qtbot.waitUntil(lambda: "Not signed in" in panel.account.label.text(), timeout=10_000)
    assert not panel.submit_button.isEnabled()
    panel.account.user_field.setText("ana")
    panel.account.password_field.setText("not-the-password")
    qtbot.mouseClick(panel.account.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.account._call is None, timeout=10_000)
    assert panel.owner is None and tokens.load(live_url) is None
    assert "Signed in" not in panel.account.label.text()


def test_signing_out_ends_the_session_and_forgets_the_tokens(
    qtbot: QtBot, open_panel: Any, live_url: str, tokens: FileStore, ana: str
) -> None:
    cloudburst_login(live_url, tokens)
    kept = tokens.load(live_url)
    assert kept is not None
    panel = open_panel()
    qtbot.waitUntil(lambda: panel.owner == "ana", timeout=10_000)
    qtbot.mouseClick(panel.account.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.owner is None, timeout=10_000)
    assert panel.account.label.text() == f"Signed out of {live_url}. Sign in to submit."
    assert tokens.load(live_url) is None and not panel.submit_button.isEnabled()
    with pytest.raises(Unauthenticated):  # the daemon revoked the session too
        DaemonClient(live_url, retries=0).refresh_tokens(str(kept["refresh_token"]))
