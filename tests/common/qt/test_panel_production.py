"""The panel's production fields in real Qt (offscreen) against a real daemon served by
waitress: node requirements, limits, the failure bound and the job waited for reach the stored
JobSpec; "After job" offers the show's previous jobs; the limits follow the render target until
the artist types others; a bad name is refused with a sentence and nothing is stored; presets
keep these fields but never the job waited for."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from common.accounts import Role
from common.host import RenderTarget
from common.jobspec import PanelSettings, build_job_spec
from common.models import JobDependency, Requirements
from common.qt import SubmitPanel
from common.qt.settings_store import SettingsStore
from common.states import JobState
from daemon.app import Services
from daemon.job_filter import JobFilter
from tests.common.qt import test_panel_extras as extras
from tests.common.qt.fake_host import FakeHost
from tests.common.qt.test_panel import make_info
from tests.common.qt.test_panel_extras import click_submit, type_show

open_panel = extras.open_panel
"""Opens a panel on the served daemon, signed in with a role (``td1`` for a TD)."""
scene_dir = extras.scene_dir


def first_job_listed(qtbot: QtBot, panel: SubmitPanel, show: str) -> int:
    """Submits a job of ``show`` and waits until "After job" offers it; its id."""
    type_show(qtbot, panel, show)
    first = click_submit(qtbot, panel)
    after = panel.form.production.after
    qtbot.waitUntil(lambda: after.findData(first) > 0, timeout=10_000)
    return first


def test_every_production_field_reaches_the_stored_job(
    qtbot: QtBot, open_panel: Any, services: Services
) -> None:
    panel = open_panel(Role.TD)
    first = first_job_listed(qtbot, panel, "tlk")  # the sim the render waits for
    production = panel.form.production
    production.pool.setText("lighting")
    production.os.setCurrentIndex(production.os.findData("linux"))
    production.min_memory.setValue(32)
    production.gpus.setValue(2)
    production.min_gpu_memory.setValue(16)
    production.dcc_version.setText("4.2")
    production.tags.setText("ssd, fast ssd")
    production.limits.setText("blender, cycles, studio-nas")
    production.max_failed.setText("10 %")
    production.after.setCurrentIndex(production.after.findData(first))
    production.frame_by_frame.setChecked(True)
    job = services.jobs.get(click_submit(qtbot, panel))

    assert job.spec.requirements == Requirements(
        pool="lighting", os="linux", min_memory_mb=32 * 1024, gpus=2,
        min_gpu_memory_mb=16 * 1024, dcc_version="4.2", tags=["ssd", "fast"],
    )  # fmt: skip
    assert job.spec.limits == ["blender", "cycles", "studio-nas"]
    assert job.spec.max_failed_tasks == "10%"
    assert job.spec.dependencies == [JobDependency(job=first, frames="same")]


def test_after_job_offers_the_shows_previous_jobs_only(
    qtbot: QtBot, open_panel: Any, services: Services
) -> None:
    panel = open_panel(Role.TD)
    elsewhere = first_job_listed(qtbot, panel, "other")
    mine = first_job_listed(qtbot, panel, "tlk")
    after = panel.form.production.after
    assert after.findData(mine) > 0 and after.findData(elsewhere) == -1
    assert after.currentData() is None  # nothing waited for unless chosen
    assert not panel.form.production.frame_by_frame.isEnabled()

    third = services.jobs.get(click_submit(qtbot, panel))
    assert third.spec.depends_on == [] and third.state is JobState.QUEUED


def test_the_limits_follow_the_target_until_the_artist_types_others(
    qtbot: QtBot, open_panel: Any, services: Services
) -> None:
    panel = open_panel(Role.TD)
    host = panel.adapter
    assert isinstance(host, FakeHost)
    host.info = replace(host.info, targets=(*host.info.targets, RenderTarget(
        "Preview", "view_layer", ("Camera",), "//preview/p_####", "eevee")))  # fmt: skip
    panel.refresh_scene()
    form, production = panel.form, panel.form.production
    assert production.limits.text() == "blender, cycles"  # panel_limits of the scene
    form.target.setCurrentIndex(form.target.findData("Preview"))
    assert production.limits.text() == "blender, eevee"
    assert services.jobs.get(click_submit(qtbot, panel)).spec.limits == ["blender", "eevee"]

    production.limits.setText("blender")
    form.target.setCurrentIndex(form.target.findData("Shadows"))
    assert production.limits.text() == "blender"  # typed: kept
    production.limits.setText("")
    assert services.jobs.get(click_submit(qtbot, panel)).spec.limits == []


@pytest.mark.parametrize(
    ("field", "text", "said"),
    [
        ("tags", "ssd fast!", "Tags: 'fast!' is not a tag name; use letters, digits and _ . + -"),
        ("pool", "-gpu", "Pool: '-gpu' is not a pool name; use letters"),
        ("limits", "maya, v ray!", "Limits: 'ray!' is not a limit name (maya, arnold); use"),
        ("max_failed", "ten", "Stop after: 'ten' is not a count of failed tasks; write a number "
                              "of tasks (5) or a percentage from 1% to 100% (10%)"),
        ("max_failed", "150%", "Stop after: '150%' is not a count of failed tasks"),
        ("max_failed", "0", "Stop after: '0' is not a count of failed tasks"),
        ("dcc_version", "4.2 beta", "DCC version: '4.2 beta' is not a version; write one such"),
    ],
)  # fmt: skip
def test_a_bad_production_value_is_refused_with_a_sentence_and_nothing_is_stored(
    qtbot: QtBot, open_panel: Any, services: Services, field: str, text: str, said: str
) -> None:
    panel = open_panel(Role.TD)
    getattr(panel.form.production, field).setText(text)
    [problem] = [p for p in panel.problems if p.code == "invalid_job"]
    assert said in problem.message
    assert not panel.submit_button.isEnabled()
    panel.submit()
    assert services.jobs.list_jobs(JobFilter()).total == 0


def test_presets_keep_the_production_fields_but_not_the_job_waited_for(
    qtbot: QtBot, open_panel: Any, tmp_path: Path
) -> None:
    panel = open_panel(Role.TD)
    first = first_job_listed(qtbot, panel, "tlk")
    production = panel.form.production
    production.pool.setText("gpu")
    production.gpus.setValue(1)
    production.tags.setText("ssd")
    production.limits.setText("blender, redshift")
    production.max_failed.setText("5")
    production.after.setCurrentIndex(production.after.findData(first))
    panel.presets.ask_name = lambda: "gpu farm"
    panel.presets.save()

    production.pool.setText("")
    production.gpus.setValue(0)
    production.tags.setText("")
    production.limits.setText("blender")
    production.max_failed.setText("")
    production.after.setCurrentIndex(0)
    panel.presets.menu.activated.emit(panel.presets.menu.findData("gpu farm"))
    chosen = panel.form.settings()
    assert (chosen.pool, chosen.gpus, chosen.tags, chosen.max_failed_tasks) == (
        "gpu", 1, "ssd", "5",
    )  # fmt: skip
    assert chosen.limits == "blender, redshift" and chosen.after_job is None

    panel.remember_settings()  # per scene: the job waited for is never kept either
    stored = SettingsStore(tmp_path / "panel.json").load(
        panel.info.scene_path if panel.info else "", panel.defaults
    )
    assert stored.pool == "gpu" and stored.after_job is None


def test_a_stored_choice_of_the_wrong_type_is_ignored(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "panel.json")
    store.path.write_text(
        '{"scenes": {"/s/a.blend": {"limits": ["maya"], "after_job": 12}}, "presets": {}}'
    )
    defaults = PanelSettings(name="a")
    assert store.load("/s/a.blend", defaults) == defaults
    store.path.write_text('{"scenes": {"/s/a.blend": {"pool": "gpu", "after_job": 12}}}')
    assert store.load("/s/a.blend", defaults) == replace(defaults, pool="gpu")


def test_build_job_spec_holds_the_dcc_and_renderer_limits_unless_others_are_named(
    scene_dir: Path,
) -> None:
    info = make_info(scene_dir)
    assert build_job_spec(info, PanelSettings()).limits == ["blender", "cycles"]
    assert build_job_spec(info, PanelSettings(limits="")).limits == []
    spec = build_job_spec(info, PanelSettings(limits="nas nas, maya", after_job=7))
    assert spec.limits == ["nas", "maya"]
    assert spec.dependencies == [JobDependency(job=7, frames="all")]
    assert spec.requirements.empty and spec.max_failed_tasks is None
