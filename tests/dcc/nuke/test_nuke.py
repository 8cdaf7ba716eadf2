"""The Nuke plug-in against the ``nuke`` stand-in: ``menu.py``, the panel it opens, and
``NukeAdapter`` on real ``.nk`` files and on a script built here."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from types import ModuleType

import pytest

import dcc
from common.scene_readers.nuke_report import read_nuke_script
from tests.dcc.conftest import scenes

NUKE_DIR = Path(dcc.ROOT) / "dcc" / "nuke"


def run_menu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs ``menu.py`` as Nuke does at start-up, from a ``sys.path`` without Cloudburst."""
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", dcc.ROOT)])
    runpy.run_path(str(NUKE_DIR / "menu.py"), run_name="__main__")


def test_menu_py_puts_cloudburst_first_and_adds_the_command(
    nuke_host: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_menu(monkeypatch)
    assert nuke_host.pluginPath()[0] == dcc.ROOT
    from dcc.nuke import open_panel

    assert nuke_host.STATE.menus["Nuke"] == {"Render/Submit to Cloudburst...": open_panel}


def test_the_menu_opens_the_panel(
    nuke_host: ModuleType, panel_env: list[object], qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    nuke_host.load_nk(str(scenes("nuke") / "cgru" / "scene.nk"))
    run_menu(monkeypatch)
    nuke_host.STATE.menus["Nuke"]["Render/Submit to Cloudburst..."]()
    (dialog,) = panel_env
    panel = dialog.panel  # type: ignore[attr-defined]
    assert panel.adapter.dcc == "nuke" and panel.info.targets[0].name == "heavy"
    assert len(panel.assets) == 4


def test_the_nuke_panel_offers_no_camera_box(
    nuke_host: ModuleType, panel_env: list[object], qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    nuke_host.load_nk(str(scenes("nuke") / "cgru" / "scene.nk"))
    run_menu(monkeypatch)
    nuke_host.STATE.menus["Nuke"]["Render/Submit to Cloudburst..."]()
    (dialog,) = panel_env
    panel = dialog.panel  # type: ignore[attr-defined]
    form = panel.form
    assert panel.info.cameras == ()
    assert not form.camera.isVisibleTo(form)
    assert not form.layout().labelForField(form.camera).isVisibleTo(form)
    assert form.target.isVisibleTo(form)  # the Write nodes stay a choice
    assert form.settings().camera == ""


def test_someone_elses_common_is_reported_in_nuke(
    nuke_host: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dcc, "common_problem", lambda: "Another package named 'common' hides")
    from dcc.nuke import open_panel

    open_panel()
    assert nuke_host.STATE.messages == ["Another package named 'common' hides"]


@pytest.mark.parametrize("script", ["cryptomatte/example.nk", "cgru/scene.nk", "cgru-old/scene.nk"])
def test_the_adapter_agrees_with_the_offline_reader(nuke_host: ModuleType, script: str) -> None:
    from dcc.nuke.adapter import NukeAdapter

    path = scenes("nuke") / script
    nuke_host.load_nk(str(path))
    adapter = NukeAdapter()
    offline = read_nuke_script(str(path), env={})
    assets = adapter.collect_assets()
    assert [a.path for a in assets] == [a.path for a in offline.dependencies]
    assert [a.missing_files for a in assets] == [a.missing_files for a in offline.dependencies]
    info = adapter.scene_info()
    assert [(t.name, t.output) for t in info.targets] == [
        (t.name, t.output) for t in offline.info.targets
    ]
    assert (info.frame_start, info.frame_end, info.fps, info.resolution) == (
        offline.info.frame_start,
        offline.info.frame_end,
        offline.info.fps,
        offline.info.resolution,
    )


def test_the_adapter_on_a_script_built_here(nuke_host: ModuleType, tmp_path: Path) -> None:
    from dcc.nuke.adapter import NukeAdapter

    script = tmp_path / "comp" / "sh010.nk"
    plates = tmp_path / "plates"
    plates.mkdir()
    for view, frame in (("left", 1), ("left", 2), ("right", 1)):
        (plates / f"bg_{view}.{frame:04d}.exr").write_bytes(b"x")
    nuke_host.new_script(
        str(script), env={"PLATES": str(plates)}, first_frame=1, last_frame=2, fps=25,
        format="2048 858 0 0 2048 858 1 scope", views='{left ""} {right ""}',
    )  # fmt: skip
    nuke_host.add_node("Read", file="[getenv PLATES]/bg_%V.####.exr", first=1, last=2, name="Bg")
    nuke_host.add_node(
        "Read", file="C:/old/fg.####.exr", first=1, last=2, name="Fg", disable="true"
    )
    nuke_host.add_node("Vectorfield", vfield_file="luts/grade.cube", name="Grade")
    nuke_host.add_node("Write", file="out/sh010.%v.####.exr", file_type="exr", name="Out")
    adapter = NukeAdapter()
    assets = {a.path: a for a in adapter.collect_assets()}
    left, right = assets[f"{plates}/bg_left.####.exr"], assets[f"{plates}/bg_right.####.exr"]
    assert left.exists and not right.exists
    assert right.missing_files == (f"{plates}/bg_right.0002.exr",)
    assert str(script.parent / "luts" / "grade.cube") in assets
    assert not any("fg" in p for p in assets)  # disabled
    info = adapter.scene_info()
    assert info.resolution == (2048, 858) and info.fps == 25.0
    assert info.output == str(script.parent / "out" / "sh010.%v.####.exr")
    assert info.extra["views"] == ["left", "right"] and info.output_format == "exr"


def test_dirty_and_save(nuke_host: ModuleType, tmp_path: Path) -> None:
    from dcc.nuke.adapter import NukeAdapter

    adapter = NukeAdapter()
    assert adapter.scene_path() is None
    nuke_host.new_script(str(tmp_path / "a.nk"))
    nuke_host.root()["first_frame"].setValue(5)
    assert adapter.is_dirty()
    adapter.save()
    assert not adapter.is_dirty() and nuke_host.STATE.saves == 1
