"""From the Blender panel to frames on disk: the real add-on adapter (bpy), the real panel
driven by qtbot, a real daemon and agent process, real Blender renders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar
from pytestqt.qtbot import QtBot

from common.accounts import Role, UserCreate
from common.config import Settings
from common.qt import SubmitPanel
from common.qt.settings_store import SettingsStore
from common.states import JobState
from tests.e2e.conftest import make_scene, needs_bpy
from tests.e2e.farm import Farm

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = [pytest.mark.slow, needs_bpy]


def test_a_submit_from_the_blender_panel_renders_to_done(
    qtbot: QtBot, farm: Farm, tmp_path: Path
) -> None:
    import bpy

    from dcc.blender.adapter import BlenderAdapter

    scene = make_scene(tmp_path / "shot" / "shot.blend", "1-4")
    farm.start_daemon()
    farm.start_agent("a")
    bpy.ops.wm.open_mainfile(filepath=str(scene))
    # The artist signs in with a password, as `cloudburst login` does.
    farm.client.create_user(UserCreate(name="e2e", role=Role.ARTIST, password="e2e-secret-pw"))
    token = farm.client.login("e2e", "e2e-secret-pw").access_token
    panel = SubmitPanel(
        BlenderAdapter(), config=Settings(daemon_url=farm.url, token=token),
        store=SettingsStore(tmp_path / "panel.json"), poll_interval_ms=300,
    )  # fmt: skip
    qtbot.addWidget(panel)
    try:
        qtbot.waitUntil(lambda: panel.daemon_ok is True, timeout=30_000)
        qtbot.waitUntil(lambda: panel.owner == "e2e", timeout=30_000)  # the daemon said who
        assert panel.info is not None and panel.info.scene_path == str(scene)
        panel.form.frames.setText("1-4")
        panel.form.chunk.setValue(2)
        assert panel.preflight_view.problems == (), panel.preflight_view.texts()

        with qtbot.waitSignal(panel.submitted, timeout=30_000) as submitted:
            qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
        job = submitted.args[0]
        assert job.spec.owner == "e2e"
        done = farm.wait_job(job.id)
        assert done.state is JobState.SUCCEEDED, farm.logs()
        frames = sorted(p.name for p in (scene.parent / "render").glob("frame_*.png"))
        assert frames == [f"frame_{n:04d}.png" for n in range(1, 5)]
        qtbot.waitUntil(
            lambda: bool(panel.recent.jobs) and panel.recent.jobs[0].state is JobState.SUCCEEDED,
            timeout=30_000,
        )
        assert _bar(panel).value() == 1000
    finally:
        panel.shutdown()
        panel.pool.waitForDone(10_000)


def _bar(panel: SubmitPanel) -> QProgressBar:
    bar = panel.recent.progress_bar(0)
    assert bar is not None
    return bar
