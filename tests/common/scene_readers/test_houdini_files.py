"""The Houdini reader: HDA libraries, the node types that read files, and disabled caches.

A scene written here uses each file-reading node type the farm must stage (MaterialX and USD
textures, Arnold and Redshift textures, asset references, Alembic and VDB readers), some
caches switched off, and HDAs from a studio library and from Houdini itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.host import AssetKind
from common.scene_readers.houdini_libraries import recorded_libraries, ships_with_houdini
from common.scene_readers.houdini_report import read_hip
from tests.common.scene_readers.hip_files import node, odc, parm

FALLBACKS = """\
Sop/attribwrangle /opt/hfs20.0.547/houdini/otls/OPlibSop.hda
Sop/attribwrangle otls/OPlibSop.hda
Vop/checkered::2.0 C:/Program Files/Side Effects Software/Houdini 20.0.547/houdini/otls/OPlibVop.hda
studio::Sop/scatter_trees::1 $STUDIO/otls/scatter_trees.hda
studio::Sop/scatter_trees::1 otls/scatter_trees.hda
studio::Lop/lookdev::1 $STUDIO/otls/scatter_trees.hda
studio::Object/rig::2 {hda}
"""


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    hip = tmp_path / "shot" / "shot.hip"
    (hip.parent / "tex").mkdir(parents=True)
    studio = tmp_path / "studio" / "otls"
    studio.mkdir(parents=True)
    (studio / "scatter_trees.hda").write_bytes(b"hda")
    members: dict[str, str | bytes] = {
        ".start": "fps 24\ntset 0 0.0416667\ntcur 0\n",
        ".variables": f"set -g STUDIO = '{tmp_path}/studio'\n",
        ".OPlibraries": "$HIP/hda/shot_tools.hda\n",
        ".OPfallbacks": FALLBACKS.format(hda=tmp_path / "gone" / "rig.hda"),
    }
    readers = [
        ("mat/mx", "mtlximage", "file", "$HIP/tex/mx_color.exr"),
        ("mat/usdtex", "usduvtexture::2.0", "file", "$HIP/tex/usd_uv.png"),
        ("mat/ai", "arnold::image", "filename", "$HIP/tex/ai.tx"),
        ("mat/rs", "redshift::TextureSampler", "tex0", "$HIP/tex/rs.<UDIM>.exr"),
        ("stage/ref", "assetreference", "filepath", "$HIP/usd/tree.usd"),
        ("obj/geo/abc", "alembic", "fileName", "$HIP/cache/anim.abc"),
        ("obj/vdb", "arnold_volume", "ar_filename", "$HIP/vdb/smoke.$F4.vdb"),
        ("obj/geo/vdb", "file", "file", "$HIP/vdb/fire.$F4.vdb"),
    ]
    node(members, "obj/geo/read1", "file", parm("filemode", "1"), parm("file", "$HIP/r.bgeo"))
    for path, node_type, name, value in readers:
        node(members, path, node_type, parm(name, value))
    node(members, "mat/plain", "image", parm("filename", "$HIP/tex/not_a_reader.png"))
    off = [
        ("obj/geo/cache_off", "filecache::2.0", parm("loadfromdisk", "0"), parm("file", "a.bgeo")),
        ("obj/geo/sop_none", "file", parm("filemode", '"none"'), parm("file", "b.bgeo")),
        ("obj/geo/sop_write", "file", parm("filemode", "2"), parm("file", "c.bgeo")),
        ("obj/geo/dop_off", "dopio", parm("loadfromdisk", '"off"'), parm("file", "d.sim")),
    ]
    for path, node_type, *parms in off:
        node(members, path, node_type, *parms)
    node(members, "obj/geo/bypassed", "alembic", parm("fileName", "$HIP/cache/old.abc"))
    members["obj/geo/bypassed.def"] = "flags =  lock off bypass on display off\n"
    hip.write_bytes(odc(members))
    return hip


def test_each_file_reading_node_type_is_a_dependency(scene: Path) -> None:
    report = read_hip(str(scene), env={})
    hip = scene.parent
    found = {a.source: (a.path, a.kind) for a in report.dependencies}
    assert found["/mat/mx/file"] == (f"{hip}/tex/mx_color.exr", AssetKind.IMAGE)
    assert found["/mat/usdtex/file"] == (f"{hip}/tex/usd_uv.png", AssetKind.IMAGE)
    assert found["/mat/ai/filename"] == (f"{hip}/tex/ai.tx", AssetKind.IMAGE)
    assert found["/mat/rs/tex0"] == (f"{hip}/tex/rs.<UDIM>.exr", AssetKind.IMAGE)
    assert found["/stage/ref/filepath"] == (f"{hip}/usd/tree.usd", AssetKind.REFERENCE)
    assert found["/obj/geo/abc/fileName"] == (f"{hip}/cache/anim.abc", AssetKind.CACHE)
    assert found["/obj/vdb/ar_filename"] == (f"{hip}/vdb/smoke.$F4.vdb", AssetKind.CACHE)
    assert found["/obj/geo/vdb/file"] == (f"{hip}/vdb/fire.$F4.vdb", AssetKind.CACHE)
    assert found["/obj/geo/read1/file"] == (f"{hip}/r.bgeo", AssetKind.CACHE)  # mode 1: read
    assert "/mat/plain/filename" not in found  # a bare "image" type is not Arnold's


def test_disabled_and_bypassed_caches_are_not_dependencies(scene: Path) -> None:
    sources = {a.source for a in read_hip(str(scene), env={}).dependencies}
    for path in ("cache_off", "sop_none", "sop_write", "dop_off", "bypassed"):
        assert not any(s.startswith(f"/obj/geo/{path}/") for s in sources), path


def test_hda_libraries_outside_houdini_are_dependencies(scene: Path, tmp_path: Path) -> None:
    report = read_hip(str(scene), env={})
    libraries = {a.path: a for a in report.dependencies if a.source.startswith("HDA library")}
    studio = f"{tmp_path}/studio/otls/scatter_trees.hda"
    assert sorted(libraries) == sorted(
        [f"{scene.parent}/hda/shot_tools.hda", studio, f"{tmp_path}/gone/rig.hda"]
    )  # OPlibSop.hda and OPlibVop.hda ship with Houdini; "otls/..." lines name the same file
    assert libraries[studio].exists and libraries[studio].kind is AssetKind.OTHER
    assert libraries[studio].source == (
        "HDA library (studio::Sop/scatter_trees::1, studio::Lop/lookdev::1)"
    )
    assert libraries[f"{scene.parent}/hda/shot_tools.hda"].source.endswith("with the scene)")
    assert {a.path for a in report.missing} >= {f"{tmp_path}/gone/rig.hda"}


def test_a_library_under_hfs_from_the_environment_is_houdini_s_own(scene: Path) -> None:
    report = read_hip(str(scene), env={"HFS": str(scene.parent.parent / "studio")})
    assert not any("scatter_trees" in a.path for a in report.dependencies)


@pytest.mark.parametrize(
    ("path", "own"),
    [
        ("/opt/hfs19.5.368/houdini/otls/OPlibSop.hda", True),
        ("/opt/hfs19.5.368/houdini/otls/SideFX_labs_extra.hda", True),
        ("C:/Program Files/Side Effects Software/Houdini 20.0.547/houdini/otls/x.hda", True),
        ("/cg/soft/houdini/17.5.460/houdini/otls/OPlibScripted.hda", True),
        ("$HFS/houdini/otls/OPlibDop.hda", True),
        ("/cgru/plugins/houdini/afanasy.otl", False),
        ("/home/tusi/houdini12.5/otls/qLib/base/twist_ql_SOP.otl", False),
        ("/studio/houdini/otls/tools.hda", False),
    ],
)
def test_which_libraries_ship_with_houdini(path: str, own: bool) -> None:
    assert ships_with_houdini(path) is own


def test_recorded_libraries_keep_the_first_order_and_skip_relative_lines() -> None:
    libraries = recorded_libraries(
        "/a/one.hda\n", "T/x /b/two.hda\nT/x otls/two.hda\nT/y /a/one.hda\n"
    )
    assert [(lib.path, lib.types) for lib in libraries] == [
        ("/a/one.hda", ("T/y",)),
        ("/b/two.hda", ("T/x",)),
    ]


def _spare_file_parm(name: str, default: str) -> str:
    """A ``parm { ... }`` block of a ``.spareparmdef`` member declaring a file parameter."""
    return (
        f'    parm {{\n        name    "{name}"\n        label   "{name}"\n        type    file\n'
        f'        default {{ "{default}" }}\n'
        '        parmtag { "filechooser_mode" "read_and_write" }\n'
        "    }\n"
    )


def test_a_render_node_s_deep_maps_and_scratch_folders_are_not_dependencies(
    tmp_path: Path,
) -> None:
    """The shape of a Mantra ROP inside a locked render asset, as SideFX's Game Development
    Toolset saves it (``hip/shop_octahedron_imposter_lens_demoscene.hip``): no ``.init`` (its
    type comes from the asset), Mantra's rendering properties declared as spare ``file``
    parameters. The deep camera and shadow maps, extra image planes and temporary storage are
    what the render writes, not files it reads; a spare file parameter that is read (a light's
    map) still is."""
    hip = tmp_path / "shot" / "impostor.hip"
    hip.parent.mkdir(parents=True)
    rop = "obj/ropnet1/rop_impostor_texture/render_animation"
    spare = {
        "vm_dcmfilename": "$HIP/dcm.rat",
        "vm_dsmfilename": "$HIP/dsm.rat",
        "vm_filename_plane#": "$HIP/plane.exr",
        "vm_tmplocalstorage": "$HOUDINI_TEMP_DIR/ifds/storage",
        "vm_tmpsharedstorage": "$HIP/ifds/storage",
        "light_map": "$HIP/tex/studio.hdr",
    }
    values = {**spare, "vm_filename_plane1": "$HIP/plane1.exr"}
    del values["vm_filename_plane#"]
    members: dict[str, str | bytes] = {
        ".start": "fps 24\ntset 0 0.0416667\ntcur 0\n",
        f"{rop}.def": "flags =  lock off bypass off display off\n",
        f"{rop}.spareparmdef": "".join(_spare_file_parm(n, d) for n, d in spare.items()),
        f"{rop}.parm": "{\nversion 0.8\n"
        + "".join(parm(n, v) for n, v in values.items())
        + parm("vm_picture", '"`chs(\\"../output\\")`"')
        + "}\n",
    }
    node(members, "obj/ropnet1", "ropnet")
    node(members, "obj/ropnet1/rop_impostor_texture", "gamedev::rop_impostor_texture")
    hip.write_bytes(odc(members))

    report = read_hip(str(hip), env={"HOUDINI_TEMP_DIR": "/tmp/houdini"})
    assert [(a.path, a.source) for a in report.dependencies] == [
        (f"{hip.parent}/tex/studio.hdr", f"/{rop}/light_map"),
    ]
