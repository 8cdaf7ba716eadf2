"""The Houdini plug-in against the ``hou`` stand-in: the package file, the shelf tool, the panel
it opens, and ``HoudiniAdapter`` on a real ``.hip`` file and on a scene built here."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import ModuleType

import pytest

import dcc
from common.host import AssetKind
from common.scene_readers.houdini_report import read_hip
from tests.dcc.conftest import scenes

HOUDINI_DIR = Path(dcc.ROOT) / "dcc" / "houdini"


def package_env(package_dir: Path) -> dict[str, object]:
    """The package's variables, with ``$HOUDINI_PACKAGE_PATH`` as Houdini sets it on load."""
    package = json.loads((HOUDINI_DIR / "cloudburst.json").read_text())
    entries = {e["var"]: e for e in package["env"]}
    expand = lambda v: os.path.normpath(v.replace("$HOUDINI_PACKAGE_PATH", str(package_dir)))  # noqa: E731
    return {
        "PYTHONPATH": expand(entries["PYTHONPATH"]["value"]),
        "method": entries["PYTHONPATH"]["method"],
        "path": expand(package["path"]),
    }


def test_the_package_puts_cloudburst_first_and_adds_the_shelf() -> None:
    env = package_env(HOUDINI_DIR)
    assert env["PYTHONPATH"] == dcc.ROOT and env["method"] == "prepend"
    assert (Path(str(env["path"])) / "toolbar" / "cloudburst.shelf").is_file()


def shelf_script() -> str:
    tree = ElementTree.parse(HOUDINI_DIR / "toolbar" / "cloudburst.shelf")
    tool = tree.getroot().find("tool[@name='cloudburst_submit']")
    assert tool is not None and tool.get("label") == "Submit to Cloudburst"
    shelf = tree.getroot().find("toolshelf")
    assert shelf is not None and shelf.find("memberTool").get("name") == "cloudburst_submit"  # type: ignore[union-attr]
    script = tool.find("script")
    assert script is not None and script.get("scriptType") == "python"
    return script.text or ""


def test_the_shelf_tool_opens_the_panel(
    hou_host: ModuleType, panel_env: list[object], qtbot: object
) -> None:
    hou_host.load_hip(str(scenes("houdini") / "cgru" / "scene.hip"), env={})
    exec(compile(shelf_script(), "cloudburst.shelf", "exec"), {})  # as Houdini runs it
    (dialog,) = panel_env
    panel = dialog.panel  # type: ignore[attr-defined]
    assert panel.adapter.dcc == "houdini" and panel.info.renderer == "mantra"
    assert len(panel.assets) == 4


def test_someone_elses_common_is_reported_in_houdini(
    hou_host: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dcc, "common_problem", lambda: "Another package named 'common' hides")
    exec(compile(shelf_script(), "cloudburst.shelf", "exec"), {})
    assert hou_host.STATE.messages == [("error", "Another package named 'common' hides")]


def test_the_adapter_agrees_with_the_offline_reader_on_a_real_file(hou_host: ModuleType) -> None:
    from dcc.houdini.adapter import HoudiniAdapter

    hip = scenes("houdini") / "cgru" / "scene.hip"
    hou_host.load_hip(str(hip), env={})
    adapter = HoudiniAdapter()
    offline = read_hip(str(hip), env={})
    files = [a.path for a in offline.dependencies if not a.source.startswith("HDA library")]
    assert [a.path for a in adapter.collect_assets()] == files  # HDA libraries: offline only
    info = adapter.scene_info()
    assert [t.name for t in info.targets] == [t.name for t in offline.info.targets]
    assert [t.output for t in info.targets] == [t.output for t in offline.info.targets]
    assert info.extra["default_target"] == "/out/mantra_jpg1"
    assert info.extra["target_frames"] == offline.info.extra["target_frames"]
    assert (info.resolution, info.fps) == ((640, 480), 24.0)


def test_the_adapter_on_a_scene_built_here(hou_host: ModuleType, tmp_path: Path) -> None:
    from dcc.houdini.adapter import HoudiniAdapter

    hip = tmp_path / "shot" / "shot.hip"
    (tmp_path / "job" / "cache").mkdir(parents=True)
    (tmp_path / "job" / "cache" / "anim.abc").write_bytes(b"abc")
    (hip.parent / "geo").mkdir(parents=True)
    (hip.parent / "geo" / "v.0002.vdb").write_bytes(b"v")
    state = hou_host.new_scene(str(hip), env={"JOB": str(tmp_path / "job")}, fps=25.0)
    state.scene.time_range = (0.0, 0.12)  # frames 1-3
    hou_host.add_node("/obj/geo1", "geo")
    hou_host.add_node("/obj/geo1/abc", "alembic", fileName="$JOB/cache/anim.abc")
    hou_host.add_node("/obj/geo1/vdb", "file", filemode="read", file="geo/v.$F4.vdb")
    hou_host.add_node("/obj/geo1/cam", "file", filemode="read", file="defcam.bgeo")
    hou_host.add_node("/obj/geo1/off", "file", bypass=True, file="/nowhere/x.bgeo")
    hou_host.add_node("/obj/cam1", "cam", res=("1920", "1080"))
    hou_host.add_node(
        "/out/beauty", "ifd", trange="normal", f=("1", "3", "1"), camera="/obj/cam1",
        vm_picture="$HIP/render/$OS.$F4.exr", vm_dcmfilename="$HIP/dcm.rat",
    )  # fmt: skip
    hou_host.add_node("/out/preview", "opengl", picture="ip")
    adapter = HoudiniAdapter()
    assert adapter.scene_path() == hip
    assets = {a.source: a for a in adapter.collect_assets()}
    assert set(assets) == {"/obj/geo1/abc/fileName", "/obj/geo1/vdb/file"}
    assert assets["/obj/geo1/abc/fileName"].exists
    vdb = assets["/obj/geo1/vdb/file"]
    assert vdb.path == str(hip.parent / "geo" / "v.$F4.vdb") and vdb.kind is AssetKind.CACHE
    assert [Path(p).name for p in vdb.missing_files] == ["v.0001.vdb", "v.0003.vdb"]
    info = adapter.scene_info()
    beauty, preview = info.targets
    assert beauty.output == str(hip.parent / "render" / "beauty.$F4.exr") and beauty.enabled
    assert not preview.enabled  # renders to MPlay
    assert info.resolution == (1920, 1080) and info.extra["target_frames"]["/out/beauty"] == "1-3"
    assert info.extra["project_root"] == str(tmp_path / "job")


def test_dirty_and_save(hou_host: ModuleType, tmp_path: Path) -> None:
    from dcc.houdini.adapter import HoudiniAdapter

    adapter = HoudiniAdapter()
    assert adapter.scene_path() is None  # a scene never saved
    hou_host.new_scene(str(tmp_path / "a.hip"))
    hou_host.STATE.dirty = True
    assert adapter.is_dirty()
    adapter.save()
    assert not adapter.is_dirty() and hou_host.STATE.saves == 1


def test_a_rop_output_driven_by_a_channel(hou_host: ModuleType) -> None:
    """``save_slices``' output is a channel (``chs("../loadslices/file")``): Houdini gives no
    text for it, so the adapter asks Houdini for two frames and finds the frame in them."""
    from dcc.houdini.adapter import HoudiniAdapter

    hip = scenes("houdini") / "cgru" / "distrib_pyro.hip"
    hou_host.load_hip(str(hip), env={"SLICE": "0"})
    (target,) = HoudiniAdapter().scene_info().targets
    assert target.output == f"{hip.parent}/geo/distrib_pyro.pyro_import.0.$F.bgeo.sc"
    assert read_hip(str(hip), env={"SLICE": "0"}).info.targets[0].output == target.output
