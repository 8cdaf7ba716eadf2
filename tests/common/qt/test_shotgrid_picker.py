"""The panel's ShotGrid boxes as pick-lists, in real Qt (offscreen) against a real daemon served
by waitress with a Mockgun ShotGrid site: projects, then the project's shots, then the shot's
tasks; a typed code is kept; without ShotGrid the boxes stay plain and say so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from common.accounts import Role
from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.jobspec import PanelSettings
from common.models import JobSpec
from common.qt import SubmitPanel
from common.qt.settings_store import SettingsStore
from common.qt.shotgrid_picker import NO_SITE
from daemon.app import Services, create_app
from tests.common.qt import test_panel_extras as extras_world
from tests.common.qt.fake_host import FakeHost
from tests.common.qt.test_panel import make_info
from tests.common.qt.test_panel_extras import type_show
from tests.conftest import FakeClock, user_token
from tests.daemon.calls import job_body
from tests.daemon.shotgrid_site import Site

# The served daemon with a Mockgun site, and the panel opened on it, of the extras' tests.
app = extras_world.app
site = extras_world.site
scene_dir = extras_world.scene_dir
open_panel = extras_world.open_panel
click_submit = extras_world.click_submit


def items(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def boxes(panel: SubmitPanel) -> tuple[QComboBox, QComboBox, QComboBox]:
    picker = panel.shotgrid
    assert picker.combos is not None
    return picker.combos


@pytest.fixture
def production(site: Site) -> dict[str, Any]:
    alpha, beta = site.project("alpha"), site.project("beta")
    sh010, sh020 = site.shot(alpha, "sh010"), site.shot(alpha, "sh020")
    sh900 = site.shot(beta, "sh900")
    chair, robot = site.asset(alpha, "chair"), site.asset(alpha, "robot", "Character")
    site.asset(beta, "lamp")
    return {
        "lighting": site.task(sh010, "lighting"), "comp": site.task(sh010, "comp"),
        "fx": site.task(sh020, "fx"), "anim": site.task(sh900, "anim"),
        "model": site.task(chair, "model"), "lookdev": site.task(chair, "lookdev"),
        "rig": site.task(robot, "rig"),
    }  # fmt: skip


def test_the_artist_picks_project_shot_and_task_and_the_job_links_the_task(
    qtbot: QtBot,
    open_panel: Any,
    production: dict[str, Any],
    services: Services,
) -> None:
    panel = open_panel(Role.ARTIST)
    qtbot.waitUntil(lambda: panel.shotgrid.combos is not None, timeout=10_000)
    project, shot, task = boxes(panel)
    extras = panel.form.extras
    assert project.lineEdit() is extras.sg_project  # the job's field is the combo's text
    qtbot.waitUntil(lambda: items(project) == ["alpha", "beta"], timeout=10_000)
    assert items(shot) == [] and items(task) == []

    project.setCurrentIndex(project.findText("alpha"))
    qtbot.waitUntil(lambda: items(shot) == ["sh010", "sh020"], timeout=10_000)
    shot.setCurrentIndex(shot.findText("sh010"))
    qtbot.waitUntil(lambda: items(task) == ["comp", "lighting"], timeout=10_000)
    task.setCurrentIndex(task.findText("lighting"))

    chosen = extras.apply(PanelSettings())
    assert (chosen.shotgrid_project, chosen.shotgrid_shot, chosen.shotgrid_task) == (
        "alpha", "sh010", "lighting",
    )  # fmt: skip
    job = services.jobs.get(click_submit(qtbot, panel))
    assert job.spec.shotgrid is not None
    assert job.spec.shotgrid.task_id == production["lighting"]["id"]


def test_another_project_lists_its_own_shots_and_empties_the_tasks(
    qtbot: QtBot,
    open_panel: Any,
    production: dict[str, Any],
) -> None:
    panel = open_panel(Role.ARTIST)
    qtbot.waitUntil(lambda: panel.shotgrid.combos is not None, timeout=10_000)
    project, shot, task = boxes(panel)
    qtbot.waitUntil(lambda: project.count() == 2, timeout=10_000)
    project.setCurrentIndex(project.findText("alpha"))
    qtbot.waitUntil(lambda: shot.count() == 2, timeout=10_000)
    shot.setCurrentIndex(shot.findText("sh020"))
    qtbot.waitUntil(lambda: items(task) == ["fx"], timeout=10_000)

    project.setCurrentIndex(project.findText("beta"))
    assert items(task) == []  # at once: alpha's tasks mean nothing in beta
    qtbot.waitUntil(lambda: items(shot) == ["sh900"], timeout=10_000)
    assert items(task) == []


def test_a_typed_code_that_is_not_listed_is_kept_for_the_daemon_to_check(
    qtbot: QtBot,
    open_panel: Any,
    production: dict[str, Any],
    site: Site,
) -> None:
    panel = open_panel(Role.ARTIST)
    qtbot.waitUntil(lambda: panel.shotgrid.combos is not None, timeout=10_000)
    project, shot, _task = boxes(panel)
    qtbot.waitUntil(lambda: project.count() == 2, timeout=10_000)
    asked = len(site.calls)
    qtbot.keyClicks(panel.form.extras.sg_project, "gam")  # no project of that name
    assert panel.form.extras.sg_project.text() == "gam"
    assert items(shot) == []
    qtbot.wait(200)
    assert len(site.calls) == asked  # typing asks nothing of the daemon's ShotGrid
    assert panel.form.extras.apply(PanelSettings()).shotgrid_project == "gam"


def test_without_shotgrid_the_boxes_stay_plain_and_say_so(
    qtbot: QtBot,
    tmp_path: Path,
    clock: FakeClock,
    scene_dir: Path,
) -> None:
    from tests.serving import serve

    app_ = create_app(Settings(data_dir=tmp_path / "plain"), clock=clock)
    found: Services = app_.extensions["cloudburst"]
    token = user_token(found, "ana", Role.ARTIST)
    with serve(app_, threads=4) as url:
        panel = SubmitPanel(
            FakeHost(make_info(scene_dir), []), config=Settings(daemon_url=url, token=token),
            store=SettingsStore(tmp_path / "panel.json"), poll_interval_ms=100,
        )  # fmt: skip
        qtbot.addWidget(panel)
        try:
            note = panel.shotgrid.note
            qtbot.waitUntil(lambda: note.text() == NO_SITE, timeout=10_000)
            assert panel.shotgrid.combos is None
            edit = panel.form.extras.sg_project
            assert isinstance(edit, QLineEdit) and not isinstance(edit.parent(), QComboBox)
            edit.setText("alpha")
            assert panel.form.extras.apply(PanelSettings()).shotgrid_project == "alpha"
        finally:
            panel.shutdown()
            panel.pool.waitForDone(10_000)


def test_shotgrid_down_leaves_the_boxes_usable_and_says_why(
    qtbot: QtBot, open_panel: Any, production: dict[str, Any], site: Site
) -> None:
    site.down = True
    panel = open_panel(Role.ARTIST)
    note = panel.shotgrid.note
    qtbot.waitUntil(lambda: note.text().startswith("ShotGrid lists unavailable"), timeout=10_000)
    assert "type the codes" in note.text() and "SECRET-KEY-123" not in note.text()
    panel.form.extras.sg_project.setText("alpha")
    assert panel.form.extras.apply(PanelSettings()).shotgrid_project == "alpha"


@pytest.fixture
def td_job(services: Services, live_url: str) -> Callable[..., int]:
    """Submits a one-frame job of a show as the TD ``td2``, linked to ShotGrid as ``link``
    says (nothing: no link); its id."""
    td = DaemonClient(live_url, retries=0, auth=StaticToken(user_token(services, "td2", Role.TD)))

    def submit(name: str, show: str, **link: Any) -> int:
        linked = {"shotgrid": link} if link else {}
        spec = job_body(name=name, owner="td2", project=show, frames="1", **linked)
        return td.submit(JobSpec.model_validate(spec)).id

    return submit


def test_after_job_offers_the_chosen_shots_previous_jobs_else_the_shows(
    qtbot: QtBot, open_panel: Any, production: dict[str, Any], td_job: Callable[..., int]
) -> None:
    sh010, sh020 = (production[task]["entity"]["id"] for task in ("lighting", "fx"))
    light = td_job("sh010 light", "tlk", shot_id=sh010)
    fx = td_job("sh020 fx", "tlk", shot_id=sh020)
    plate = td_job("plate", "tlk")
    elsewhere = td_job("sh010 other show", "other", shot_id=sh010)

    panel = open_panel(Role.ARTIST)
    after = panel.form.production.after
    type_show(qtbot, panel, "tlk")
    qtbot.waitUntil(lambda: offered(after) == [plate, fx, light], timeout=10_000)

    qtbot.waitUntil(lambda: panel.shotgrid.combos is not None, timeout=10_000)
    project, shot, _task = boxes(panel)
    qtbot.waitUntil(lambda: project.count() == 2, timeout=10_000)
    project.setCurrentIndex(project.findText("alpha"))
    qtbot.waitUntil(lambda: items(shot) == ["sh010", "sh020"], timeout=10_000)
    shot.setCurrentIndex(shot.findText("sh010"))
    qtbot.waitUntil(lambda: offered(after) == [elsewhere, light], timeout=10_000)
    assert "shot sh010" in after.toolTip()

    after.setCurrentIndex(after.findData(light))
    shot.setCurrentIndex(shot.findText("sh020"))
    qtbot.waitUntil(lambda: offered(after) == [fx], timeout=10_000)
    assert after.currentData() is None  # sh010's job is no longer offered, nor chosen

    panel.form.extras.sg_shot.setText("")  # no shot: the show's jobs again
    qtbot.waitUntil(lambda: offered(after) == [plate, fx, light], timeout=10_000)
    assert "show tlk" in after.toolTip()


def offered(after: QComboBox) -> list[int]:
    """The job ids "After job" offers, in its order (its first item is "Nothing")."""
    return [after.itemData(i) for i in range(1, after.count())]


def test_the_artist_picks_an_asset_and_its_task_and_the_job_links_the_asset(
    qtbot: QtBot,
    open_panel: Any,
    production: dict[str, Any],
    services: Services,
    td_job: Callable[..., int],
) -> None:
    chair = production["model"]["entity"]["id"]
    modelled = td_job("chair model", "tlk", project="alpha", asset="chair", task="model")

    panel = open_panel(Role.ARTIST)
    extras, after = panel.form.extras, panel.form.production.after
    qtbot.waitUntil(lambda: panel.shotgrid.combos is not None, timeout=10_000)
    project, entity, task = boxes(panel)
    qtbot.waitUntil(lambda: project.count() == 2, timeout=10_000)
    project.setCurrentIndex(project.findText("alpha"))
    qtbot.waitUntil(lambda: items(entity) == ["sh010", "sh020"], timeout=10_000)

    extras.sg_kind.setCurrentIndex(extras.sg_kind.findData("Asset"))
    assert extras.sg_shot.placeholderText() == "asset code, e.g. chair"
    qtbot.waitUntil(lambda: items(entity) == ["chair", "robot"], timeout=10_000)  # alpha's only
    assert items(task) == []
    entity.setCurrentIndex(entity.findText("chair"))
    qtbot.waitUntil(lambda: items(task) == ["lookdev", "model"], timeout=10_000)
    qtbot.waitUntil(lambda: offered(after) == [modelled], timeout=10_000)  # the asset's jobs
    assert "asset chair" in after.toolTip()
    task.setCurrentIndex(task.findText("lookdev"))
    after.setCurrentIndex(after.findData(modelled))

    chosen = extras.apply(PanelSettings())
    assert (chosen.shotgrid_shot, chosen.shotgrid_asset, chosen.shotgrid_task) == (
        "", "chair", "lookdev",
    )  # fmt: skip
    job = services.jobs.get(click_submit(qtbot, panel))
    link_ = job.spec.shotgrid
    assert link_ is not None
    assert (link_.asset_id, link_.shot_id) == (chair, None)
    assert link_.task_id == production["lookdev"]["id"]
    assert [d.job for d in job.spec.dependencies] == [modelled]

    extras.load(chosen)  # a scene's kept choices bring the asset back as an asset
    assert extras.entity_kind == "Asset" and extras.sg_shot.text() == "chair"
    extras.sg_kind.setCurrentIndex(extras.sg_kind.findData("Shot"))
    qtbot.waitUntil(lambda: items(entity) == ["sh010", "sh020"], timeout=10_000)
    assert panel.shotgrid.chosen is None  # "chair" is no shot of alpha
