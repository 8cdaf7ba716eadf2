"""The submit panel in real Qt (offscreen) against a real daemon served by waitress."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar, QPushButton
from pytestqt.qtbot import QtBot

import common
from common.accounts import Role
from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.errors import InvalidInput
from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.jobspec import TARGET_ENV
from common.models import AgentRegistration, Job, JobSpec, Placement, TaskDone
from common.qt import SubmitDialog, SubmitPanel
from common.qt.dependency_list import MISSING_COLOR
from common.qt.settings_store import SettingsStore
from daemon.app import Services
from daemon.job_filter import JobFilter
from tests.common.qt.fake_host import FakeHost
from tests.conftest import user_token

OWNER = "mara"


@pytest.fixture
def scene_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "show" / "sh010"
    (folder / "tex").mkdir(parents=True)
    (folder / "tex" / "wood.png").write_bytes(b"x" * 2048)
    return folder


def make_info(scene_dir: Path, name: str = "sh010_light_v001.blend") -> SceneInfo:
    return SceneInfo(
        dcc="blender", scene_path=str(scene_dir / name), frame_start=1, frame_end=24,
        renderer="cycles", resolution=(640, 360),
        targets=(RenderTarget("ViewLayer", "view_layer", ("Camera",), "//render/f_####", "cycles"),
                 RenderTarget("Shadows", "view_layer", ("Camera",), "//shadows/s_####", "cycles")),
        cameras=("Camera",), output="//render/f_####", output_format="PNG",
        extra={"project_root": str(scene_dir.parent)},
    )  # fmt: skip


def texture(scene_dir: Path) -> Asset:
    return Asset(str(scene_dir / "tex" / "wood.png"), AssetKind.IMAGE, True, 2048)


def missing(scene_dir: Path) -> Asset:
    return Asset(str(scene_dir / "tex" / "metal.png"), AssetKind.IMAGE, False, source="metal")


@pytest.fixture
def host(scene_dir: Path) -> FakeHost:
    return FakeHost(make_info(scene_dir), [texture(scene_dir)])


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(tmp_path / "config" / "panel-settings.json")


@pytest.fixture
def owner_token(services: Services) -> str:
    """The API key of the panel's user (``OWNER``), an artist."""
    return user_token(services, OWNER, Role.ARTIST)


class RecordingClient(DaemonClient):
    """The real client, noting the thread each submit runs on."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, retries=0, auth=StaticToken(token))
        self.submit_threads: list[int] = []
        self.submit_keys: list[str | None] = []
        self.release = threading.Event()
        self.release.set()

    def submit(self, spec: JobSpec, idempotency_key: str | None = None) -> Job:
        self.submit_threads.append(threading.get_ident())
        self.submit_keys.append(idempotency_key)
        assert self.release.wait(10), "the test never released the submit"
        return super().submit(spec, idempotency_key)


#: Where nothing listens (the discard port): for tests that need no daemon.
NO_DAEMON = "http://127.0.0.1:9"


@pytest.fixture
def open_panel(qtbot: QtBot, request: pytest.FixtureRequest, store: SettingsStore) -> Iterator[Any]:
    """Opens panels on the real daemon (``live_url``, started only when a test needs it)."""
    panels: list[SubmitPanel] = []

    def open_(host: FakeHost, url: str | None = None, client: DaemonClient | None = None,
              wait_daemon: bool = True) -> SubmitPanel:  # fmt: skip
        token = ""
        if url is None:
            url = request.getfixturevalue("live_url")
            token = request.getfixturevalue("owner_token")
        panel = SubmitPanel(
            host, client=client, config=Settings(daemon_url=url, token=token), store=store,
            poll_interval_ms=100,
        )  # fmt: skip
        qtbot.addWidget(panel)
        panels.append(panel)
        if wait_daemon:
            qtbot.waitUntil(lambda: panel.daemon_ok is not None, timeout=10_000)
        if token:  # the account the daemon makes the owner (``GET /auth/me``)
            qtbot.waitUntil(lambda: panel.owner == OWNER, timeout=10_000)
        return panel

    yield open_
    for panel in panels:
        panel.shutdown()
        panel.pool.waitForDone(10_000)


def problem_codes(panel: SubmitPanel) -> set[str]:
    return {p.code for p in panel.preflight_view.problems}


# --- the form --------------------------------------------------------------------------------


def test_frames_are_validated_as_the_artist_types(
    qtbot: QtBot, open_panel: Any, host: FakeHost
) -> None:
    panel = open_panel(host)
    assert panel.form.frames.text() == "1-24"
    assert panel.form.frames_hint.text() == "24 frames in 24 tasks"
    assert panel.submit_button.isEnabled()

    panel.form.frames.clear()
    qtbot.keyClicks(panel.form.frames, "10-1")
    assert "runs backwards" in panel.form.frames_hint.text()
    assert "ff6b6b" in panel.form.frames_hint.styleSheet()  # shown as an error
    assert not panel.submit_button.isEnabled()

    panel.form.frames.clear()
    qtbot.keyClicks(panel.form.frames, "1-20x5")
    panel.form.chunk.setValue(2)
    assert panel.form.frames_hint.text() == "4 frames in 2 tasks"
    assert panel.submit_button.isEnabled()


def test_preflight_lists_each_problem_with_its_fix_and_fixes_what_it_can(
    qtbot: QtBot, open_panel: Any, scene_dir: Path
) -> None:
    host = FakeHost(make_info(scene_dir), [texture(scene_dir), missing(scene_dir)], dirty=True)
    panel = open_panel(host)
    panel.form.output.setText("/elsewhere/f_####")
    assert problem_codes(panel) == {"unsaved_changes", "missing_files", "output_outside_project"}
    texts = " | ".join(panel.preflight_view.texts())
    assert "unsaved changes" in texts and "Fix: Save the scene" in texts
    assert "metal.png" in texts and "Find Missing Files" in texts
    assert f"Write the frames under the project, e.g. {scene_dir.parent}/renders" in texts
    assert not panel.submit_button.isEnabled()

    save = panel.preflight_view.findChild(QPushButton, "fix_save")
    assert save is not None and save.text() == "Save scene"
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert host.saves == 1
    assert "unsaved_changes" not in problem_codes(panel)
    assert panel.form.output.text() == "/elsewhere/f_####"  # a save keeps what was typed


def test_the_dependency_list_shows_sizes_and_missing_files_in_red(
    open_panel: Any, scene_dir: Path
) -> None:
    panel = open_panel(FakeHost(make_info(scene_dir), [texture(scene_dir), missing(scene_dir)]))
    tree = panel.dependencies.tree
    assert tree.topLevelItemCount() == 2
    first, second = tree.topLevelItem(0), tree.topLevelItem(1)
    assert first.text(0).endswith("metal.png") and first.text(2) == "missing"  # missing first
    assert first.foreground(0).color() == MISSING_COLOR
    assert second.text(2) == "2.0 KB" and second.foreground(0).color() != MISSING_COLOR
    assert "1 missing" in panel.dependencies.summary.text()
    assert panel.tabs.tabText(0) == "Dependencies (2, 1 missing)"


def test_submit_is_disabled_while_invalid_and_clicking_sends_nothing(
    qtbot: QtBot, open_panel: Any, scene_dir: Path, services: Services
) -> None:
    panel = open_panel(FakeHost(make_info(scene_dir), [texture(scene_dir)]))
    panel.form.frames.setText("10-1")
    assert not panel.submit_button.isEnabled()
    qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    panel.submit()  # even called directly, it refuses
    assert not panel.busy
    assert services.jobs.list_jobs(JobFilter()).total == 0


# --- talking to the daemon --------------------------------------------------------------------


def test_submit_runs_off_the_ui_thread_and_reaches_the_daemon(
    qtbot: QtBot,
    open_panel: Any,
    host: FakeHost,
    live_url: str,
    services: Services,
    owner_token: str,
) -> None:
    client = RecordingClient(live_url, owner_token)
    panel = open_panel(host, client=client)
    panel.form.target.setCurrentIndex(panel.form.target.findData("Shadows"))
    panel.form.chunk.setValue(6)
    client.release.clear()  # hold the call, to see the panel while it waits

    qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    assert (
        panel.busy and panel.busy_bar.isVisibleTo(panel) and panel.cancel_button.isVisibleTo(panel)
    )
    assert "Submitting 'sh010_light_v001'" in panel.status.text()
    assert not panel.submit_button.isEnabled() and not panel.form.isEnabled()
    with qtbot.waitSignal(panel.submitted, timeout=10_000) as caught:
        client.release.set()

    job: Job = caught.args[0]
    assert client.submit_threads and client.submit_threads[0] != threading.get_ident()
    assert threading.get_ident() == threading.main_thread().ident  # the test is the UI thread
    stored = services.jobs.get(job.id)
    assert stored.spec.owner == OWNER and stored.spec.chunk_size == 6
    assert stored.spec.output == f"{Path(host.info.scene_path).parent}/shadows/s_####"
    assert stored.spec.env == {TARGET_ENV: "Shadows"}
    assert not panel.busy and not panel.cancel_button.isVisibleTo(panel)
    assert f"Submitted job {job.id}" in panel.status.text()


def test_a_daemon_error_is_shown_verbatim(
    qtbot: QtBot, open_panel: Any, host: FakeHost, services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    message = "Project 'tlk' is locked for delivery. Ask production to unlock it."

    def refuse(spec: JobSpec, caller: object = None, idempotency_key: object = None) -> Job:
        raise InvalidInput(message)

    monkeypatch.setattr(services.jobs, "submit", refuse)
    panel = open_panel(host)
    qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
    assert panel.status.text() == message
    assert "ff6b6b" in panel.status.styleSheet()
    assert panel.last_job is None and panel.submit_button.isEnabled()


def test_an_unreachable_daemon_blocks_submit_with_a_fix(
    qtbot: QtBot, open_panel: Any, host: FakeHost
) -> None:
    url = NO_DAEMON
    panel = open_panel(host, url=url)
    assert panel.daemon_ok is False
    problem = next(p for p in panel.preflight_view.problems if p.code == "daemon_unreachable")
    assert url in problem.message and "cloudburst daemon" in problem.fix
    assert "not answering" in panel.daemon_label.text()
    assert not panel.submit_button.isEnabled()
    assert panel.preflight_view.findChild(QPushButton, "fix_check_daemon") is not None


def test_each_render_click_sends_its_own_idempotency_key(
    qtbot: QtBot, open_panel: Any, host: FakeHost, live_url: str, services: Services,
    owner_token: str,
) -> None:  # fmt: skip
    client = RecordingClient(live_url, owner_token)
    panel = open_panel(host, client=client)
    for _ in range(2):
        with qtbot.waitSignal(panel.submitted, timeout=10_000):
            qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    first, second = client.submit_keys
    assert first and second and first != second
    db = services.context.database.db
    assert {row[0] for row in db.execute("SELECT key FROM idempotency_keys")} == {first, second}


def test_cancel_stops_waiting_and_drops_the_answer(
    qtbot: QtBot, open_panel: Any, host: FakeHost, live_url: str, owner_token: str
) -> None:
    client = RecordingClient(live_url, owner_token)
    panel = open_panel(host, client=client)
    client.release.clear()
    qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    call = panel._call
    assert panel.busy and call is not None

    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not panel.busy and panel.submit_button.isEnabled()
    assert panel.status.text().startswith("Cancelled.")
    with qtbot.assertNotEmitted(panel.submitted, wait=200):
        client.release.set()
        qtbot.waitUntil(call.done.is_set, timeout=10_000)
    assert panel.last_job is None


def test_recent_jobs_show_live_progress(
    qtbot: QtBot, open_panel: Any, host: FakeHost, live_url: str, admin_token: str
) -> None:
    farm = DaemonClient(live_url, retries=0, auth=StaticToken(admin_token))
    job = farm.submit(JobSpec(name="earlier", owner=OWNER, scene="/s/a.blend", frames="1-2",
                              output="/r/a_####"))  # fmt: skip
    farm.submit(JobSpec(name="someone else's", owner="ana", scene="/s/b.blend", frames="1",
                        output="/r/b_####"))  # fmt: skip
    panel = open_panel(host)
    qtbot.waitUntil(lambda: len(panel.recent.jobs) == 1, timeout=10_000)
    assert panel.recent.table.item(0, 1).text() == "earlier"
    assert _bar(panel).value() == 0

    agent = farm.register(AgentRegistration(name="node1", hostname="node1"))
    task = farm.lease(agent.id)
    assert task is not None
    farm.complete(agent.id, task.task_id, TaskDone(attempt=task.attempt, outputs=[]))
    qtbot.waitUntil(lambda: _bar(panel).value() == 500, timeout=10_000)
    assert _bar(panel).format() == "50%"
    assert panel.recent.jobs[0].id == job.id
    farm.close()


# --- what sticks -------------------------------------------------------------------------------


def test_choices_stick_per_scene(
    qtbot: QtBot, open_panel: Any, scene_dir: Path, store: SettingsStore
) -> None:
    host = FakeHost(make_info(scene_dir), [texture(scene_dir)])
    panel = open_panel(host)
    panel.form.frames.setText("5-10")
    panel.form.priority.setValue(80)
    panel.form.placement.setCurrentIndex(panel.form.placement.findData("never-cloud"))
    panel.form.camera.setCurrentIndex(panel.form.camera.findData("Camera"))
    panel.shutdown()

    again = open_panel(host, url=NO_DAEMON, wait_daemon=False).form.settings()
    assert (again.frames, again.priority, again.placement) == ("5-10", 80, Placement.NEVER_CLOUD)
    assert again.camera == "Camera"

    other = FakeHost(make_info(scene_dir, "sh010_anim_v003.blend"), [texture(scene_dir)])
    fresh = open_panel(other, url=NO_DAEMON, wait_daemon=False).form.settings()
    assert (fresh.frames, fresh.priority, fresh.placement) == ("1-24", 50, Placement.AUTO)


def test_the_camera_box_shows_only_when_the_scene_offers_cameras(
    open_panel: Any, scene_dir: Path, store: SettingsStore
) -> None:
    with_cameras = FakeHost(make_info(scene_dir), [texture(scene_dir)])
    panel = open_panel(with_cameras, url=NO_DAEMON, wait_daemon=False)
    assert panel.form.camera.isVisibleTo(panel.form)
    panel.form.camera.setCurrentIndex(panel.form.camera.findData("Camera"))
    assert panel.form.settings().camera == "Camera"
    panel.shutdown()

    # The same scene, from a host that offers no camera (as Nuke's adapter does): no box, and
    # the camera kept from before is not sent.
    info = make_info(scene_dir)
    no_cameras = replace(info, cameras=(), targets=tuple(
        replace(t, cameras=()) for t in info.targets))  # fmt: skip
    again = open_panel(FakeHost(no_cameras), url=NO_DAEMON, wait_daemon=False)
    assert not again.form.camera.isVisibleTo(again.form)
    assert not again.form.layout().labelForField(again.form.camera).isVisibleTo(again.form)
    assert again.form.settings().camera == ""


def test_untouched_fields_follow_the_scene(
    open_panel: Any, host: FakeHost, store: SettingsStore
) -> None:
    panel = open_panel(host, url=NO_DAEMON, wait_daemon=False)
    panel.form.priority.setValue(70)
    panel.shutdown()
    later = open_panel(host.with_range(1, 48), url=NO_DAEMON, wait_daemon=False).form.settings()
    assert later.frames == "1-48" and later.priority == 70


# --- starting up -------------------------------------------------------------------------------


def test_a_shadowed_common_package_is_named(
    open_panel: Any, host: FakeHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "CLOUDBURST_COMMON", False)
    panel = open_panel(host, url=NO_DAEMON, wait_daemon=False)
    assert panel.banner.isVisibleTo(panel)
    assert "is not Cloudburst's" in panel.banner.text()


def test_the_dialog_holds_the_panel(qtbot: QtBot, host: FakeHost, live_url: str,
                                    store: SettingsStore, owner_token: str) -> None:  # fmt: skip
    config = Settings(daemon_url=live_url, token=owner_token)
    dialog = SubmitDialog(host, config=config, store=store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.panel.daemon_ok is True, timeout=10_000)
    assert dialog.windowTitle().startswith("Cloudburst")
    dialog.close()
    assert not dialog.panel.recent.timer.isActive()
    dialog.panel.pool.waitForDone(10_000)


def _bar(panel: SubmitPanel) -> QProgressBar:
    bar = panel.recent.progress_bar(0)
    assert bar is not None
    return bar
