"""The Maya plug-in against the ``maya.cmds`` stand-in: the module file, the plug-in's menu,
the panel it opens, and ``MayaAdapter`` on a real ``.ma`` file and on scenes built here."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import ModuleType

import pytest

import dcc
from common.host import AssetKind
from common.scene_readers.maya_report import read_maya_ascii
from tests.dcc.conftest import scenes

MAYA_DIR = Path(dcc.ROOT) / "dcc" / "maya"


def test_the_module_file_puts_cloudburst_on_the_python_path() -> None:
    lines = (MAYA_DIR / "cloudburst.mod").read_text().splitlines()
    assert lines[0].split()[:3] == ["+", "cloudburst", "0.1.0"]
    python = next(line for line in lines if line.startswith("PYTHONPATH"))
    relative = python.split(":=", 1)[1]
    assert os.path.normpath(MAYA_DIR / relative) == dcc.ROOT  # holds common/ and dcc/
    plugins = next(line for line in lines if line.startswith("MAYA_PLUG_IN_PATH"))
    assert (MAYA_DIR / plugins.split(":=", 1)[1] / "cloudburst_plugin.py").is_file()


def load_plugin() -> dict[str, object]:
    return runpy.run_path(str(MAYA_DIR / "plug-ins" / "cloudburst_plugin.py"))


def test_the_plugin_adds_and_removes_its_menu(maya_host: ModuleType) -> None:
    plugin = load_plugin()
    plugin["initializePlugin"](None)  # type: ignore[operator]
    ui = maya_host.SCENE.ui
    assert ui["CloudburstMenu"]["parent"] == "MayaWindow"
    (item,) = [v for v in ui.values() if v["kind"] == "menuItem"]
    assert item["label"] == "Submit to Cloudburst..."
    from dcc.maya import open_panel

    assert item["command"] is open_panel
    plugin["uninitializePlugin"](None)  # type: ignore[operator]
    assert ui == {}


def test_no_menu_in_batch_mode(maya_host: ModuleType) -> None:
    maya_host.SCENE.batch = True
    load_plugin()["initializePlugin"](None)  # type: ignore[operator]
    assert maya_host.SCENE.ui == {}


def test_the_menu_opens_the_panel_on_the_open_scene(
    maya_host: ModuleType, panel_env: list[object], qtbot: object
) -> None:
    mrv = scenes("maya") / "mrv"
    maya_host.load_ma(str(mrv / "ma" / "refbase.ma"), env={"MAYAFILEBASE": str(mrv)})
    load_plugin()["initializePlugin"](None)  # type: ignore[operator]
    item = next(v for v in maya_host.SCENE.ui.values() if v["kind"] == "menuItem")
    item["command"]()
    (dialog,) = panel_env
    panel = dialog.panel  # type: ignore[attr-defined]
    assert panel.adapter.dcc == "maya" and panel.info.scene_path.endswith("refbase.ma")
    assert len(panel.assets) == 5


def test_someone_elses_common_is_reported_in_maya(
    maya_host: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dcc, "common_problem", lambda: "Another package named 'common' hides")
    from dcc.maya import open_panel

    open_panel()
    assert maya_host.SCENE.warnings == ["Another package named 'common' hides"]


def test_the_adapter_agrees_with_the_offline_reader_on_a_real_file(maya_host: ModuleType) -> None:
    from dcc.maya.adapter import MayaAdapter

    mrv = scenes("maya") / "mrv"
    env = {"MAYAFILEBASE": str(mrv)}
    maya_host.load_ma(str(mrv / "ma" / "refbase.ma"), env=env)
    adapter = MayaAdapter()
    offline = read_maya_ascii(str(mrv / "ma" / "refbase.ma"), env=env)
    assert [a.path for a in adapter.collect_assets()] == [a.path for a in offline.dependencies]
    info = adapter.scene_info()
    assert (info.frame_start, info.frame_end, info.fps) == (1, 25, 25.0)
    assert info.targets == offline.info.targets and info.cameras == ("persp",)


def build_shot(maya: ModuleType, root: Path) -> None:
    scene = maya.new_scene(path=str(root / "scenes" / "shot.ma"), workspace=str(root))
    scene.time_unit, scene.playback = "film", (1.0, 48.0)
    scene.file_rules["images"] = "renders"
    globals_ = scene.nodes["defaultRenderGlobals"].attrs
    globals_.update(animation=True, startFrame=1001.0, endFrame=1003.0, currentRenderer="arnold")
    globals_["imageFilePrefix"] = "<RenderLayer>/<Scene>"
    scene.add_node("aiAOVDriver", "defaultArnoldDriver", aiTranslator="exr")
    scene.add_node("transform", "shotCam")
    scene.add_node("camera", "shotCamShape", parent="shotCam")
    scene.add_node("renderLayer", "rs_fg")
    scene.add_node("renderLayer", "chr:defaultRenderLayer", referenced=True)
    scene.add_node("file", "skin", fileTextureName="sourceimages/skin.1001.exr", uvTilingMode=3)
    scene.add_node(
        "file", "fire", fileTextureName="/fx/fire.1001.png", useFrameExtension=True,
        computedFileTextureNamePattern="/fx/fire.<f>.png",
    )  # fmt: skip
    scene.add_node("file", "chr:body", referenced=True, fileTextureName="C:/tex/body.tif")
    scene.add_node("gpuCache", "treeShape", cacheFileName="cache/trees.abc")
    hero = maya.Reference(str(root / "assets/hero.ma"), "$ASSETS/hero.ma", "chrRN", "chr:")
    hero.children.append(
        maya.Reference(str(root / "assets/rig.ma"), "rig.ma", "chr:rigRN", "chr:rig:", loaded=False)
    )
    scene.references.append(hero)


def test_the_adapter_on_a_scene_built_here(maya_host: ModuleType, tmp_path: Path) -> None:
    from dcc.maya.adapter import MayaAdapter

    build_shot(maya_host, tmp_path)
    (tmp_path / "sourceimages").mkdir()
    (tmp_path / "sourceimages" / "skin.1001.exr").write_bytes(b"e")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "hero.ma").write_text("//Maya ASCII 2024 scene\n")
    adapter = MayaAdapter()
    info = adapter.scene_info()
    assert (info.frame_start, info.frame_end, info.fps) == (1001, 1003, 24.0)
    assert info.renderer == "arnold" and info.output_format == "exr"
    assert [t.name for t in info.targets] == ["defaultRenderLayer", "rs_fg"]  # not chr:'s
    assert info.targets[1].output == str(tmp_path / "renders" / "rs_fg" / "shot.####.exr")
    assert info.cameras == ("shotCam",) and info.resolution == (320, 240)
    assets = {a.source: a for a in adapter.collect_assets()}
    assert assets["chrRN (file -r '$ASSETS/hero.ma')"].exists
    assert not any("rig" in source for source in assets)  # unloaded: not rendered
    skin = assets["skin.fileTextureName"]
    assert skin.path == str(tmp_path / "sourceimages" / "skin.<UDIM>.exr") and skin.exists
    fire = assets["fire.fileTextureName"]
    assert fire.path == "/fx/fire.#.png" and len(fire.missing_files) == 3
    assert not assets["chr:body.fileTextureName"].exists  # a Windows path, kept as written
    assert assets["treeShape.cacheFileName"].kind is AssetKind.CACHE


def test_dirty_and_save(maya_host: ModuleType, tmp_path: Path) -> None:
    from dcc.maya.adapter import MayaAdapter

    adapter = MayaAdapter()
    assert adapter.scene_path() is None
    build_shot(maya_host, tmp_path)
    maya_host.SCENE.modified = True
    assert adapter.is_dirty()
    adapter.save()
    assert not adapter.is_dirty() and maya_host.SCENE.saves == 1
