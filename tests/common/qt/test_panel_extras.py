"""The panel's fields beyond the render, in real Qt (offscreen) against a real daemon served by
waitress with a Mockgun ShotGrid site: each one reaches the stored job; missing files are named
before a submit anyway; the environment table is for TDs and admins only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import QTableWidgetItem
from pytestqt.qtbot import QtBot

from common.accounts import Role
from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.errors import EnvNotAllowed
from common.jobspec import PanelSettings
from common.models import AgentRegistration, JobSpec
from common.qt import SubmitPanel
from common.qt.settings_store import SettingsStore
from common.states import JobState
from daemon.app import Services, create_app
from daemon.job_filter import JobFilter
from tests.common.qt.fake_host import FakeHost
from tests.common.qt.test_panel import make_info, missing, texture
from tests.conftest import FakeClock, user_token
from tests.daemon.shotgrid_site import BUILT, Site, make_site


@pytest.fixture
def site(tmp_path: Path, clock: FakeClock) -> Site:
    return make_site(BUILT, tmp_path / "schema", clock)


@pytest.fixture
def app(tmp_path: Path, clock: FakeClock, site: Site) -> Flask:
    settings = Settings(
        data_dir=tmp_path / "data", lease_ttl_s=30,
        shotgrid={"site": "https://studio.shotgrid.example", "script_name": "cloudburst",
                  "script_key": "SECRET-KEY-123", **BUILT.settings},
    )  # fmt: skip
    return create_app(settings, clock=clock, shotgrid_connect=site.connect)


@pytest.fixture
def scene_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "show" / "sh010"
    (folder / "tex").mkdir(parents=True)
    (folder / "tex" / "wood.png").write_bytes(b"x" * 2048)
    return folder


@pytest.fixture
def open_panel(
    qtbot: QtBot, tmp_path: Path, live_url: str, services: Services, scene_dir: Path
) -> Iterator[Any]:
    panels: list[SubmitPanel] = []

    def open_(role: Role, assets: list[Any] | None = None) -> SubmitPanel:
        token = user_token(services, role.value + "1", role)
        host = FakeHost(make_info(scene_dir), assets if assets is not None else [])
        panel = SubmitPanel(
            host, config=Settings(daemon_url=live_url, token=token),
            store=SettingsStore(tmp_path / "panel.json"), poll_interval_ms=100,
        )  # fmt: skip
        qtbot.addWidget(panel)
        panels.append(panel)
        qtbot.waitUntil(lambda: panel.daemon_ok is not None, timeout=10_000)
        qtbot.waitUntil(lambda: panel.owner == role.value + "1", timeout=10_000)
        return panel

    yield open_
    for panel in panels:
        panel.shutdown()
        panel.pool.waitForDone(10_000)


def click_submit(qtbot: QtBot, panel: SubmitPanel) -> int:
    with qtbot.waitSignal(panel.submitted, timeout=10_000) as sent:
        qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    return int(sent.args[0].id)


def test_every_extra_field_reaches_the_stored_job(
    qtbot: QtBot, open_panel: Any, services: Services, site: Site, live_url: str
) -> None:
    project = site.project("alpha")
    task = site.task(site.shot(project, "sh010"), "lighting")
    panel = open_panel(Role.TD)
    extras = panel.form.extras
    due = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)
    extras.has_due.setChecked(True)
    extras.due.setDateTime(QDateTime.fromSecsSinceEpoch(int(due.timestamp())))
    extras.sg_project.setText("alpha")
    extras.sg_shot.setText("sh010")
    extras.sg_task.setText("lighting")
    extras.retries.setValue(7)
    extras.timeout.setValue(90)
    extras.description.setPlainText("New key light; check the rim on frame 12.")
    extras.paused.setChecked(True)
    extras.add_env.click()
    extras.env.setItem(0, 0, QTableWidgetItem("OCIO"))
    extras.env.setItem(0, 1, QTableWidgetItem("/studio/ocio/config.ocio"))

    job = services.jobs.get(click_submit(qtbot, panel))
    spec = job.spec
    assert spec.due == due
    assert spec.shotgrid is not None and spec.shotgrid.task_id == task["id"]
    assert (spec.max_retries, spec.timeout_s) == (7, 90 * 60)
    assert spec.description == "New key light; check the rim on frame 12."
    assert spec.env["OCIO"] == "/studio/ocio/config.ocio"
    assert spec.paused and job.state is JobState.PAUSED
    shown = DaemonClient(live_url, retries=0, auth=panel.client.auth).job(job.id)
    assert shown.spec.description == spec.description  # GET /jobs/{id} shows it


def test_a_job_submitted_paused_is_never_leased_until_resumed(
    services: Services, live_url: str
) -> None:
    admin = DaemonClient(
        live_url, retries=0, auth=StaticToken(user_token(services, "admin", Role.ADMIN))
    )
    agent = admin.register(AgentRegistration(name="node01", hostname="node01"))
    assert agent.token is not None
    node = DaemonClient(live_url, retries=0, auth=StaticToken(agent.token))
    spec = JobSpec(name="p", scene="/s/a.blend", frames="1", output="/r/a_####", paused=True)
    job = admin.submit(spec)
    assert job.state is JobState.PAUSED and job.spec.paused
    assert node.lease(agent.id) is None
    assert admin.resume(job.id).state is JobState.QUEUED
    assignment = node.lease(agent.id)
    assert assignment is not None and assignment.job_id == job.id


def test_a_description_past_2000_characters_is_refused_and_nothing_stored(
    qtbot: QtBot, open_panel: Any, services: Services
) -> None:
    panel = open_panel(Role.ARTIST)
    panel.form.extras.description.setPlainText("x" * 2001)
    [problem] = [p for p in panel.problems if p.code == "invalid_job"]
    assert problem.message.startswith("The job cannot be submitted: Description")
    assert "2000" in problem.message and not panel.submit_button.isEnabled()
    panel.submit()
    assert services.jobs.list_jobs(JobFilter()).total == 0


def test_missing_files_are_named_and_the_artist_may_submit_anyway(
    qtbot: QtBot, open_panel: Any, services: Services, scene_dir: Path
) -> None:
    panel = open_panel(Role.ARTIST, [texture(scene_dir), missing(scene_dir)])
    asked: list[str] = []
    answer = [False]

    def confirm(title: str, text: str) -> bool:
        asked.append(text)
        return answer[0]

    panel.confirm = confirm
    assert "missing_files" in {p.code for p in panel.problems}
    assert panel.submit_button.isEnabled()
    qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)  # "No": nothing is sent
    assert asked and str(scene_dir / "tex" / "metal.png") in asked[0]
    assert "wood.png" not in asked[0]
    assert not panel.busy and services.jobs.list_jobs(JobFilter()).total == 0

    answer[0] = True
    job_id = click_submit(qtbot, panel)
    assert services.jobs.get(job_id).spec.owner == "artist1"


def test_the_environment_table_is_for_tds_and_the_daemon_refuses_an_artist_anyway(
    qtbot: QtBot, open_panel: Any, services: Services, live_url: str
) -> None:
    artist = open_panel(Role.ARTIST)
    assert not artist.form.extras.env.isVisibleTo(artist)
    td = open_panel(Role.TD)
    assert td.form.extras.env.isVisibleTo(td)

    token = user_token(services, "artist2", Role.ARTIST)
    client = DaemonClient(live_url, retries=0, auth=StaticToken(token))
    spec = JobSpec(name="x", scene="/s/a.blend", frames="1", output="/r/a_####",
                   env={"LD_PRELOAD": "/tmp/evil.so"})  # fmt: skip
    with pytest.raises(EnvNotAllowed):
        client.submit(spec)
    assert services.jobs.list_jobs(JobFilter()).total == 0


def type_show(qtbot: QtBot, panel: SubmitPanel, show: str) -> None:
    """Types ``show`` into the project field as an artist does, and leaves it (Enter)."""
    panel.form.project.clear()
    qtbot.keyClicks(panel.form.project, show)
    qtbot.keyClick(panel.form.project, Qt.Key.Key_Return)


def test_presets_are_kept_per_show_and_applied_with_one_click(
    qtbot: QtBot, open_panel: Any, services: Services
) -> None:
    panel = open_panel(Role.TD)
    type_show(qtbot, panel, "tlk")
    panel.form.priority.setValue(90)
    panel.form.chunk.setValue(10)
    panel.form.extras.retries.setValue(0)
    panel.form.extras.paused.setChecked(True)
    panel.presets.ask_name = lambda: "overnight"
    panel.presets.save()
    assert panel.presets.menu.currentData() == "overnight"

    type_show(qtbot, panel, "other")  # another show: its own (no) presets
    assert panel.presets.menu.findData("overnight") == -1
    type_show(qtbot, panel, "tlk")
    panel.form.priority.setValue(20)
    panel.form.chunk.setValue(1)
    panel.form.extras.retries.setValue(3)
    panel.form.extras.paused.setChecked(False)
    panel.form.name.setText("my own name")
    panel.presets.menu.activated.emit(panel.presets.menu.findData("overnight"))
    assert (panel.form.priority.value(), panel.form.chunk.value()) == (90, 10)
    assert panel.form.extras.retries.value() == 0 and panel.form.extras.paused.isChecked()
    assert panel.form.name.text() == "my own name"  # a preset names no scene's choices

    spec = services.jobs.get(click_submit(qtbot, panel)).spec
    assert (spec.project, spec.priority, spec.chunk_size, spec.max_retries, spec.paused) == (
        "tlk", 90, 10, 0, True,
    )  # fmt: skip


def test_a_preset_saved_before_leaving_the_project_field_goes_to_the_typed_show(
    qtbot: QtBot, open_panel: Any, tmp_path: Path
) -> None:
    panel = open_panel(Role.ARTIST)
    panel.form.project.setText("tlk")  # still in the field: no show change seen yet
    panel.presets.ask_name = lambda: "quick"
    panel.presets.save()
    store = SettingsStore(tmp_path / "panel.json")
    assert store.preset_names("tlk") == ["quick"] and store.preset_names("default") == []


class CountingStore(SettingsStore):
    """A settings store that counts how often it reads the file."""

    reads = 0

    def _read(self, part: str) -> dict[str, Any]:
        self.reads += 1
        return super()._read(part)


def test_the_settings_file_is_read_once_per_show_change_not_per_keystroke(
    qtbot: QtBot, tmp_path: Path, scene_dir: Path
) -> None:
    store = CountingStore(tmp_path / "panel.json")
    store.save_preset("tlk", "overnight", PanelSettings(priority=90))
    panel = SubmitPanel(
        FakeHost(make_info(scene_dir)), config=Settings(daemon_url="http://127.0.0.1:9"),
        store=store, poll_interval_ms=100_000,
    )  # fmt: skip
    qtbot.addWidget(panel)
    try:
        store.reads = 0
        panel.form.project.clear()
        qtbot.keyClicks(panel.form.project, "tlk")
        assert store.reads == 0  # three keystrokes, no read
        qtbot.keyClick(panel.form.project, Qt.Key.Key_Return)
        assert store.reads == 1 and panel.presets.menu.findData("overnight") > 0
        qtbot.keyClick(panel.form.project, Qt.Key.Key_Return)  # the same show again
        assert store.reads == 1
    finally:
        panel.shutdown()
        panel.pool.waitForDone(10_000)
