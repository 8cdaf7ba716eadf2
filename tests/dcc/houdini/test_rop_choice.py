"""One set of rules picks the render node (``common.houdini_rops``): the panel's adapter, the
offline reader (``cloudburst scan``) and the render node's ``hython_render.py`` agree on the
real ``.hip`` files and on scenes built here; the panel starts from that ROP's own frame
range; the render script leaves a ROP's output alone when the job writes there."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from cloud_agent.runners import hython_render
from common.scene_readers.houdini_report import read_hip
from tests.common.scene_readers.hip_files import node, odc, parm
from tests.dcc.conftest import scenes

REAL_FILES = [
    ("cgru/scene.hip", "/out/mantra_jpg1"),  # $DRIVERPATH
    ("cgru/pdg.hip", "/out/smoke_mantra"),
    ("cgru/distrib_pyro.hip", ""),  # its only ROP writes slices of a simulation
    ("cgru-old/heavy/scene.hip", "/out/image"),
    ("qlib/rop_tool_ql_ROP.hip", ""),  # both Mantra ROPs render to MPlay
    ("qlib/super_light_ql_OBJ.hip", "/out/test"),  # $DRIVERPATH
    ("qlib/simple_point_cloud.hip", ""),  # a point-cloud writer, and Mantra to MPlay
]


def script_choice(hou: ModuleType) -> str:
    """The ROP ``hython_render.py`` renders when the job names none ("" when it refuses)."""
    try:
        return str(hython_render.find_rop(hou, "").path())
    except LookupError:
        return ""


@pytest.mark.parametrize(("name", "expected"), REAL_FILES)
def test_panel_scan_and_render_script_pick_the_same_rop_in_real_files(
    hou_host: ModuleType, name: str, expected: str
) -> None:
    from dcc.houdini.adapter import HoudiniAdapter

    hip = scenes("houdini") / name
    hou_host.load_hip(str(hip), env={})
    panel = HoudiniAdapter().scene_info().extra["default_target"]
    scan = read_hip(str(hip), env={}).info.extra["default_target"]
    assert (panel, scan, script_choice(hou_host)) == (expected, expected, expected)


def build_scene(hou: ModuleType, tmp_path: Path) -> None:
    """A cache ROP first, a bypassed Mantra, then the beauty; a USD ROP in ``/stage``."""
    state = hou.new_scene(str(tmp_path / "shot.hip"))
    state.scene.time_range = (0.0, 9.96)  # frames 1-240 at 24 fps
    hou.add_node("/stage", "stage")
    hou.add_node("/out/sim", "geometry", trange="normal", f=("1", "100", "1"),
                 sopoutput="$HIP/geo/sim.$F4.bgeo.sc")  # fmt: skip
    hou.add_node("/out/old", "ifd", bypass=True, vm_picture="$HIP/render/old.$F4.exr")
    hou.add_node("/out/beauty", "ifd", trange="normal", f=("1001", "1096", "2"),
                 vm_picture="$HIP/render/$OS.$F4.exr")  # fmt: skip
    hou.add_node("/stage/usd_rop1", "usd_rop", lopoutput="$HIP/usd/shot.usd")


def test_the_panel_picks_the_beauty_not_the_cache_and_the_script_agrees(
    hou_host: ModuleType, tmp_path: Path
) -> None:
    from dcc.houdini.adapter import HoudiniAdapter

    build_scene(hou_host, tmp_path)
    info = HoudiniAdapter().scene_info()
    assert info.extra["default_target"] == "/out/beauty" == script_choice(hou_host)
    assert info.output == f"{tmp_path}/render/beauty.$F4.exr"
    assert "/stage/usd_rop1" in [t.name for t in info.targets]  # chosen, it would render
    assert info.extra["target_frames"]["/out/beauty"] == "1001-1096x2"


def test_the_panel_starts_from_the_rops_range_and_follows_the_chosen_rop(
    hou_host: ModuleType, tmp_path: Path, panel_env: list[object], qtbot: object
) -> None:
    from dcc.houdini import open_panel

    build_scene(hou_host, tmp_path)
    open_panel()  # what the shelf tool runs
    (dialog,) = panel_env
    form = dialog.panel.form  # type: ignore[attr-defined]
    assert form.frames.text() == "1001-1096x2"  # the beauty ROP's own range
    form.target.setCurrentIndex(form.target.findData("/out/sim"))
    assert form.frames.text() == "1-100" and form.output.text() == f"{tmp_path}/geo/sim.$F4.bgeo.sc"
    form.frames.setText("5-9")  # typed by the artist: kept from now on
    form.target.setCurrentIndex(form.target.findData("/out/beauty"))
    assert form.frames.text() == "5-9" and form.settings().target == "/out/beauty"


def write_hip(path: Path) -> Path:
    members: dict[str, str | bytes] = {".start": "fps 24\ntset 0 1\ntcur 0\n"}
    node(members, "out", "out")
    node(members, "out/beauty", "ifd", parm("vm_picture", "$HIP/render/$OS.$F4.exr"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(odc(members))
    return path


def test_the_render_script_keeps_the_rops_output_when_the_job_writes_there(
    hou_host: ModuleType, tmp_path: Path
) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    own = f"{hip.parent}/render/beauty.$F4.exr"
    assert hython_render.main(["--frames", "1", "2", "1", "--output", own, str(hip)]) == 0
    beauty = hou_host.STATE.scene.node("/out/beauty")
    assert beauty.value("vm_picture") == "$HIP/render/$OS.$F4.exr"  # left as the scene has it
    assert (hip.parent / "render" / "beauty.0002.exr").is_file()

    elsewhere = f"{tmp_path}/final/beauty.####.exr"
    assert hython_render.main(["--frames", "1", "1", "1", "--output", elsewhere, str(hip)]) == 0
    beauty = hou_host.STATE.scene.node("/out/beauty")
    assert beauty.value("vm_picture") == f"{tmp_path}/final/beauty.$F4.exr"  # the job's says so
    assert (tmp_path / "final" / "beauty.0001.exr").is_file()


def test_a_rop_inside_a_task_graph_is_pdgs_for_the_panel_and_the_script(
    hou_host: ModuleType, tmp_path: Path
) -> None:
    from dcc.houdini.adapter import HoudiniAdapter

    hou_host.new_scene(str(tmp_path / "pdg.hip"))
    hou_host.add_node("/obj/topnet1", "topnet")
    hou_host.add_node("/obj/topnet1/ropnet1", "ropnet")
    hou_host.add_node("/obj/topnet1/ropnet1/mantra1", "ifd", vm_picture="$HIP/r/$OS.$F4.exr")
    info = HoudiniAdapter().scene_info()
    assert info.targets == () and info.extra["default_target"] == ""
    assert script_choice(hou_host) == ""
    hou_host.add_node("/obj/ropnet2", "ropnet")
    hou_host.add_node("/obj/ropnet2/mantra2", "ifd", vm_picture="$HIP/r/$OS.$F4.exr")
    assert HoudiniAdapter().scene_info().extra["default_target"] == "/obj/ropnet2/mantra2"
    assert script_choice(hou_host) == "/obj/ropnet2/mantra2"


def test_the_panel_and_the_scan_read_each_rops_camera_from_its_own_parameter(
    hou_host: ModuleType, tmp_path: Path
) -> None:
    from dcc.houdini.adapter import HoudiniAdapter

    hou_host.new_scene(str(tmp_path / "rs.hip"))
    hou_host.add_node("/obj/cam_rs", "cam", res=("1280", "720"))
    hou_host.add_node("/out/rs", "Redshift_ROP", RS_renderCamera="/obj/cam_rs",
                      RS_outputFileNamePrefix="$HIP/render/rs.$F4.exr")  # fmt: skip
    info = HoudiniAdapter().scene_info()
    (target,) = info.targets
    assert (target.name, target.cameras, target.renderer) == (
        "/out/rs",
        ("/obj/cam_rs",),
        "redshift",
    )
    assert info.resolution == (1280, 720)
