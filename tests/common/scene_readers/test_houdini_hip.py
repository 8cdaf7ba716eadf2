"""The Houdini scene reader on the real ``.hip`` files and on archives written here.

What a careful reading of the real files shows (``../shared/scenes/houdini``; unpacked with any
cpio tool, the node files are text):

* ``cgru/scene.hip``: file SOPs read ``render/cache.$F4.bgeo``, ``render/cache_a.$F4.bgeo`` and
  ``render/cache_b.$F4.bgeo`` (relative: from ``$HIP``), the COP ``image_F4_exr`` reads
  ``$HIP/render/image.$F4.exr``; the camera's ``defcam.bgeo`` ships with Houdini. Twelve ROPs,
  the geometry ones writing through ``chs()`` of those file SOPs; ``$DRIVERPATH`` is
  ``/out/mantra_jpg1``. Nothing is on disk here.
* ``cgru/distrib_pyro.hip``: the ``loadslices`` file merge reads
  ``$HIP/geo/$HIPNAME.pyro_import.$SLICE.$F.bgeo.sc``; the scene saved ``$SLICE`` as ``0``
  (a distributed simulation sets it per slice). Range ``tset`` 41.67-47.17 s at 24 fps:
  1001-1132. The ``dopio`` nodes do not load from disk.
* ``cgru/pdg.hip``: three file SOPs read ``chs("/tasks/topnet1/.../sopoutput")``, a PDG output
  named with ``@wedgeindex``, known only when PDG cooks; ``$JOB`` was saved as a Windows path.
* ``cgru-old/heavy/scene.hip`` (saved on Windows: ``$HIP`` = ``C:/cg/...``): only stock files;
  ``/out/image`` writes ``render/img.$F4.jpg``, ``/out/ifd`` IFDs, two ROPs render to MPlay.
* ``qlib/simple_point_cloud.hip``: a material's point-cloud file (a spare ``file`` parameter)
  is ``chs("../../write_pcloud/sopoutput")``: ``$HIP/tmp--sim/tmp_pc.bgeo``, written by the
  ``write_pcloud`` ROP of the same scene; ``Mandril.pic`` and ``defgeo.bgeo`` ship with Houdini.
* ``qlib/rop_tool_ql_ROP.hip``, ``qlib/super_light_ql_OBJ.hip``: no files read.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from common.errors import InvalidInput
from common.host import Asset, AssetKind
from common.scene_readers import read_scene
from common.scene_readers.houdini_hip import archive_members, parse_hip
from common.scene_readers.houdini_report import read_hip
from tests.common.scene_readers.hip_files import framed, node, odc, parm


def deps(report: object) -> dict[str, object]:
    return {a.source: a for a in files(report)}


def files(report: object) -> tuple[Asset, ...]:
    """The dependencies but the HDA libraries (their own test is below)."""
    return tuple(
        a
        for a in report.dependencies  # type: ignore[attr-defined]
        if not a.source.startswith("HDA library")
    )


# --- the real files ----------------------------------------------------------------------------


def test_cgru_scene_reads_caches_and_an_image_and_renders_twelve_rops(scenes: Path) -> None:
    hip = scenes / "houdini" / "cgru" / "scene.hip"
    report = read_hip(str(hip), env={})
    render = hip.parent / "render"
    assert [(a.source, a.path) for a in files(report)] == [
        ("/obj/dust_ab/file_a/file", f"{render}/cache_a.$F4.bgeo"),
        ("/obj/dust_ab/file_b/file", f"{render}/cache_b.$F4.bgeo"),
        ("/obj/dust_ab/file/file", f"{render}/cache.$F4.bgeo"),
        ("/img/comp1/image_F4_exr/filename", f"{render}/image.$F4.exr"),
    ]
    for asset in files(report):
        assert not asset.exists and len(asset.missing_files) == 240
    info = report.info
    assert (info.frame_start, info.frame_end, info.fps) == (1, 240, 24.0)
    assert len(info.targets) == 12 and info.extra["default_target"] == "/out/mantra_jpg1"
    targets = {t.name: t for t in info.targets}
    assert targets["/out/geoCacheA"].output == f"{render}/cache_a.$F4.bgeo"  # chs() followed
    assert targets["/out/mantra"].output == f"{render}/image.$F4.exr"
    assert targets["/out/mantra_ifd"].output == f"{render}/scene.$F4.ifd"  # IFD mode
    assert targets["/obj/ropnet_test/m_in_ropnet"].renderer == "mantra"
    assert info.resolution == (640, 480) and "/obj/cam1" in info.cameras


def test_distributed_pyro_range_and_the_slice(scenes: Path) -> None:
    report = read_hip(str(scenes / "houdini" / "cgru" / "distrib_pyro.hip"), env={})
    (asset,) = files(report)
    assert asset.path.endswith("/cgru/geo/distrib_pyro.pyro_import.0.$F.bgeo.sc")
    assert len(asset.missing_files) == 132
    assert (report.info.frame_start, report.info.frame_end) == (1001, 1132)
    assert report.info.extra["target_frames"] == {"/obj/distribute_pyro/save_slices": "1001-1132"}
    sliced = read_hip(str(scenes / "houdini" / "cgru" / "distrib_pyro.hip"), env={"SLICE": "3"})
    assert files(sliced)[0].path.endswith(".pyro_import.3.$F.bgeo.sc")  # the environment


def test_distributed_pyro_frames_are_checked_against_the_frames_on_disk(
    scenes: Path, tmp_path: Path
) -> None:
    hip = tmp_path / "distrib_pyro.hip"
    hip.write_bytes((scenes / "houdini" / "cgru" / "distrib_pyro.hip").read_bytes())
    (tmp_path / "geo").mkdir()
    for frame in range(1001, 1131):  # $F: unpadded, 130 of the 132 slices written
        (tmp_path / "geo" / f"distrib_pyro.pyro_import.0.{frame}.bgeo.sc").write_bytes(b"g")
    report = read_hip(str(hip), env={})
    (asset,) = files(report)
    assert asset.evaluated and not asset.exists and len(asset.files) == 130
    assert [os.path.basename(p) for p in asset.missing_files] == [
        "distrib_pyro.pyro_import.0.1131.bgeo.sc",
        "distrib_pyro.pyro_import.0.1132.bgeo.sc",
    ]
    assert asset in report.missing
    for frame in (1131, 1132):
        (tmp_path / "geo" / f"distrib_pyro.pyro_import.0.{frame}.bgeo.sc").write_bytes(b"g")
    (whole,) = files(read_hip(str(hip), env={}))
    assert whole.exists and len(whole.files) == 132 and not whole.missing_files


def test_pdg_outputs_are_known_only_to_pdg(scenes: Path) -> None:
    report = read_hip(str(scenes / "houdini" / "cgru" / "pdg.hip"), env={})
    found = deps(report)
    assert set(found) == {
        "/obj/smoke_src/in_source/file",
        "/obj/smoke_import/IN_SIM/file",
        "/obj/render_smoke/file1/file",
    }
    assert found["/obj/smoke_import/IN_SIM/file"].path == (  # type: ignore[attr-defined]
        '`chs("/tasks/topnet1/smoke_sim/sopoutput")`'
    )
    assert sum("@wedgeindex" in w for w in report.warnings) == 3
    # expressions PDG evaluates are listed, named not evaluated, and never missing
    assert {a.source for a in report.not_evaluated} == set(found)
    assert not any(a.evaluated for a in found.values())  # type: ignore[attr-defined]
    assert all(a.source.startswith("HDA library") for a in report.missing)
    names = [t.name for t in report.info.targets]
    assert names == ["/out/smoke_mantra", "/out/comp1"]  # the ROPs inside PDG are PDG's
    hip = scenes / "houdini" / "cgru"
    assert report.info.targets[1].output == f"{hip}/render/pdg.comp1.$F4.exr"


def test_a_scene_saved_on_windows_uses_where_it_is_now(scenes: Path) -> None:
    hip = scenes / "houdini" / "cgru-old" / "heavy" / "scene.hip"
    report = read_scene(hip, env={})
    assert report.info.extra["saved_hip"].startswith("C:/cg/")
    assert files(report) == ()  # defcam.bgeo and pointlight.bgeo ship with Houdini
    targets = {t.name: t for t in report.info.targets}
    assert targets["/out/image"].output == f"{hip.parent}/render/img.$F4.jpg"
    assert not targets["/out/view"].enabled and not targets["/out/shadows"].enabled  # MPlay
    assert targets["/out/shadows"].renderer == "mantra"
    assert report.info.extra["target_frames"]["/out/shadows"] == "1-11x2"


def test_a_point_cloud_written_by_the_same_scene(scenes: Path) -> None:
    hip = scenes / "houdini" / "qlib" / "simple_point_cloud.hip"
    report = read_hip(str(hip), env={})
    (asset,) = files(report)
    assert asset.path == f"{hip.parent}/tmp--sim/tmp_pc.bgeo" and not asset.exists
    assert asset.source == "/obj/simple_point_cloud/SHADERS/splatproj/file"
    assert [o.path for o in report.outputs] == [asset.path]  # write_pcloud writes it


@pytest.mark.parametrize("scene", ["rop_tool_ql_ROP.hip", "super_light_ql_OBJ.hip"])
def test_qlib_scenes_read_no_files(scenes: Path, scene: str) -> None:
    report = read_hip(str(scenes / "houdini" / "qlib" / scene), env={})
    assert files(report) == ()
    assert all(t.renderer == "mantra" for t in report.info.targets)


def test_the_rop_range_and_current_frame(scenes: Path) -> None:
    report = read_hip(str(scenes / "houdini" / "qlib" / "rop_tool_ql_ROP.hip"), env={})
    assert (report.info.frame_start, report.info.frame_end, report.info.fps) == (1, 300, 30.0)
    assert report.info.extra["target_frames"]["/out/mantra1"] == "29"  # trange off: tcur


@pytest.mark.parametrize("signature", [b"HouNC\x1a", b"HouLC\x1a"])
def test_apprentice_and_indie_files(scenes: Path, tmp_path: Path, signature: bytes) -> None:
    data = (scenes / "houdini" / "cgru" / "scene.hip").read_bytes()
    hipnc = tmp_path / "scene.hipnc"
    hipnc.write_bytes(signature + b"1033600bb05d4a6e23bb0a2c\n" + data)
    report = read_scene(hipnc, env={})
    assert len(report.info.targets) == 12 and len(files(report)) == 4


@pytest.mark.parametrize("signature", [b"HouNC", b"HouLC"])
def test_apprentice_and_indie_framing_reads_as_the_hip(
    scenes: Path, tmp_path: Path, signature: bytes
) -> None:
    """A real scene's members framed as Apprentice / Indie files frame them: the same report."""
    hip = tmp_path / "scene.hip"
    hip.write_bytes((scenes / "houdini" / "cgru" / "scene.hip").read_bytes())
    members = archive_members(hip.read_bytes())
    hipnc = tmp_path / f"scene.hip{signature[3:].decode().lower()}"
    hipnc.write_bytes(framed(dict(members)))
    assert archive_members(hipnc.read_bytes()) == members
    expected, report = read_scene(hip, env={}), read_scene(hipnc, env={})
    assert report.dependencies == expected.dependencies and len(files(report)) == 4
    assert report.info.targets == expected.info.targets and len(report.info.targets) == 12


def test_a_framed_member_keeps_text_that_only_looks_like_a_frame() -> None:
    members: dict[str, str | bytes] = {
        ".start": "fps 30\ntset 0 1\ntcur 0\n",
        ".variables": "set -g NOTE = 'HouNC\x1a is the Apprentice signature'\n",
        "obj/a.init": "type = geo\n",
    }
    data = framed(members, b"HouNC") + framed({"TRAILER!!!": ""}) + b"junk after"
    assert archive_members(data, "x.hipnc") == {k: v.encode() for k, v in members.items()}
    assert parse_hip(data).fps == 30.0


# --- archives written here ---------------------------------------------------------------------


@pytest.fixture
def shot(tmp_path: Path) -> Path:
    members: dict[str, str | bytes] = {
        ".start": "fps 25\ntset 0 0.2\ntcur 0\n",
        ".variables": "set -g HIP = 'D:/old/place'\nset -g JOB = 'Q:/show'\n"
        "set -g DRIVERPATH = '/out/beauty'\n",
    }
    node(members, "obj", "obj")
    node(members, "obj/geo1", "geo")
    node(members, "obj/geo1/anim", "alembic", parm("fileName", "$JOB/cache/anim.abc"))
    node(members, "obj/geo1/sim", "file", parm("filemode", '"read"'), parm("file", "sim/v.$F4.vdb"))
    node(members, "obj/geo1/out", "file", parm("filemode", '"write"'), parm("file", "x.bgeo"))
    node(members, "obj/geo1/win", "file", parm("filemode", '"read"'), parm("file", "C:/a/$F.bgeo"))
    node(members, "obj/geo1/cam", "file", parm("file", "defcam.bgeo"))
    node(members, "obj/geo1/tiles", "attribfrommap", parm("filename", "$HIP/tex/d.%(UDIM)d.exr"))
    node(members, "mat", "mat")
    node(
        members, "mat/shader", "principledshader::2.0",
        parm("basecolor_useTexture", '"on"'), parm("basecolor_texture", "`chs(\\\"ref\\\")`"),
        parm("rough_useTexture", '"off"'), parm("rough_texture", "$HIP/unused.rat"),
        parm("ref", "$HIP/tex/$OS.rat"),
    )  # fmt: skip
    node(members, "out", "out")
    node(
        members, "out/beauty", "ifd",
        parm("trange", '"normal"'), parm("f", "[ f1\t1 ]", "[ f2\t240 ]", "2"),
        parm("vm_picture", "$HIP/render/$OS.$F4.exr"), parm("camera", "/obj/cam1"),
    )  # fmt: skip
    members["out/beauty.chn"] = (
        "{\n    channel f1 {\n      segment { length = 0 expr = $FSTART }\n    }\n"
        "    channel f2 {\n      segment { length = 0 expr = $FEND }\n    }\n  }\n"
    )
    node(members, "out/karma", "karma", parm("picture", "$HIP/karma/k.$F4.exr"))
    hip = tmp_path / "proj" / "shot.hip"
    (hip.parent / "sim").mkdir(parents=True)
    for frame in (1, 2, 3, 4):
        (hip.parent / "sim" / f"v.{frame:04d}.vdb").write_bytes(b"v")
    (hip.parent / "tex").mkdir()
    (hip.parent / "tex" / "d.1001.exr").write_bytes(b"d")
    hip.write_bytes(odc(members))
    return hip


def test_inputs_variables_and_expressions(shot: Path, tmp_path: Path) -> None:
    report = read_hip(str(shot), env={"JOB": str(tmp_path / "job")})
    found = deps(report)
    hip = shot.parent
    assert set(found) == {
        "/obj/geo1/anim/fileName",
        "/obj/geo1/sim/file",
        "/obj/geo1/win/file",
        "/obj/geo1/tiles/filename",
        "/mat/shader/basecolor_texture",
    }  # the written file, the stock defcam.bgeo and the texture switched off are not inputs
    assert found["/obj/geo1/anim/fileName"].path == f"{tmp_path}/job/cache/anim.abc"  # type: ignore[attr-defined]
    sim = found["/obj/geo1/sim/file"]
    assert sim.path == f"{hip}/sim/v.$F4.vdb" and not sim.exists  # type: ignore[attr-defined]
    assert len(sim.files) == 4  # type: ignore[attr-defined]  # frames 1-4 of 1-5
    assert sim.missing_files == (f"{hip}/sim/v.0005.vdb",)  # type: ignore[attr-defined]
    windows = found["/obj/geo1/win/file"]
    assert windows.path == "C:/a/$F.bgeo" and not windows.exists  # type: ignore[attr-defined]
    assert found["/obj/geo1/tiles/filename"].exists  # type: ignore[attr-defined]
    texture = found["/mat/shader/basecolor_texture"]
    assert texture.path == f"{hip}/tex/shader.rat"  # type: ignore[attr-defined]


def test_rops_ranges_and_the_saved_job(shot: Path) -> None:
    report = read_hip(str(shot), env={})
    assert deps(report)["/obj/geo1/anim/fileName"].path == "Q:/show/cache/anim.abc"  # type: ignore[attr-defined]
    info = report.info
    assert (info.frame_start, info.frame_end, info.fps) == (1, 5, 25.0)
    beauty, karma = info.targets
    assert beauty.output == f"{shot.parent}/render/beauty.$F4.exr"
    assert info.extra["target_frames"] == {"/out/beauty": "1-5x2", "/out/karma": "1"}
    assert karma.renderer == "karma" and info.extra["default_target"] == "/out/beauty"


def test_damaged_and_foreign_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a Houdini scene"):
        archive_members(b"PK\x03\x04 a zip", "x.hip")
    with pytest.raises(InvalidInput, match="damaged"):
        archive_members(odc({".start": "fps 24\n"})[:-40], "x.hip")
    scrambled = tmp_path / "enc.hipnc"
    scrambled.write_bytes(b"HouNC\x1a" + bytes(range(256)) * 4)
    with pytest.raises(InvalidInput, match="open it in Houdini"):
        read_scene(scrambled)


def test_parameter_values_quoted_grouped_and_escaped() -> None:
    members: dict[str, str | bytes] = {".start": "fps 24\n"}
    node(
        members, "out/m", "ifd",
        parm("cmd", '"mantra -f `chs(\\"x\\")`"'), parm("f", "[ f1\t3 ]", "7", "1"),
        parm("p", "`chs(\\\"/obj/a/file\\\")`"),
    )  # fmt: skip
    scene = parse_hip(odc(members))
    values = scene.nodes["/out/m"].parms
    assert values["cmd"] == ['mantra -f `chs("x")`']
    assert values["f"] == ["3", "7", "1"]
    assert values["p"] == ['`chs("/obj/a/file")`']
    assert AssetKind.CACHE == "cache"


def test_each_render_node_type_names_its_camera_in_its_own_parameter(tmp_path: Path) -> None:
    members: dict[str, str | bytes] = {".start": "fps 24\ntset 0 1\ntcur 0\n"}
    node(members, "obj", "obj")
    node(members, "obj/cam_rs", "cam", parm("res", "1280", "720"))
    node(members, "out", "out")
    node(members, "out/rs", "Redshift_ROP", parm("RS_renderCamera", "/obj/cam_rs"),
         parm("RS_outputFileNamePrefix", "$HIP/render/rs.$F4.exr"))  # fmt: skip
    node(members, "stage", "stage")
    node(members, "stage/render", "usdrender_rop", parm("override_camera", "/cameras/hero"),
         parm("outputimage", "$HIP/render/u.$F4.exr"))  # fmt: skip
    hip = tmp_path / "rs.hip"
    hip.write_bytes(odc(members))
    report = read_hip(str(hip), env={})
    cameras = {t.name: t.cameras for t in report.info.targets}
    assert cameras == {"/out/rs": ("/obj/cam_rs",), "/stage/render": ("/cameras/hero",)}
    assert report.info.extra["default_target"] == "/out/rs"
    assert report.info.resolution == (1280, 720)  # from the Redshift ROP's camera
