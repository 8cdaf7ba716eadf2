"""The Nuke script reader on the real ``.nk`` files and on scripts written here.

What a careful reading of the real files shows (``../shared/scenes/nuke``):

* ``cryptomatte/example.nk``: four Reads whose file is
  ``[file dirname [value root.name]]/<name>.exr``: the folder of the script itself (Nuke sets
  ``root.name`` to the opened file; the saved one, ``W:/development/...``, is a Windows path of
  the author's). The images are not in the copy here, so all four are missing. No Write.
* ``cgru/scene.nk``: relative paths (from the script's folder): Reads of ``render/key``,
  ``render/back``, ``render/final`` (``####.exr``) and ``render/preview.####.jpg``, the outputs
  of its own Writes ``heavy`` (``%04d``), ``Write1``, ``key``, ``back``, ``final`` and
  ``preview``; root range 1-11 at 25 fps, PAL. The ``proxy`` knobs are unused (proxy mode off).
* ``cgru-old/scene.nk``: twelve distinct Read sequences (``render/test_a.%04d.exr``...) and
  fifteen Writes; ``cgru-old/heavy`` and ``cgru-old/tclcmd``: one Write each, no Read.
* ``jedypod/ReadWrite.nk``: a tool set whose Write names its file after ``[topnode]``, the Read
  it is pasted under; pasted nowhere, that needs Nuke, and the reader says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.host import AssetKind
from common.scene_readers import read_scene
from common.scene_readers.nuke_report import read_frames, read_nuke_script
from common.scene_readers.nuke_script import parse_nuke_script


def by_source(assets: object) -> dict[str, object]:
    return {a.source: a for a in assets}  # type: ignore[attr-defined]


def test_cryptomatte_reads_next_to_the_script_through_tcl(scenes: Path) -> None:
    folder = scenes / "nuke" / "cryptomatte"
    report = read_nuke_script(str(folder / "example.nk"), env={})
    assert [(a.source, a.path, a.exists) for a in report.dependencies] == [
        ("Read3.file", str(folder / "bunny_CryptoObject.exr"), False),
        ("Read1.file", str(folder / "bunny_CryptoAsset.exr"), False),
        ("Read4.file", str(folder / "testGrid_CryptoObject.exr"), False),
        ("Read2.file", str(folder / "bunny_CryptoMaterial.exr"), False),
    ]
    info = report.info
    assert info.extra["saved_as"].startswith("W:/development/")  # as saved, not used
    assert (info.frame_start, info.frame_end, info.resolution) == (1, 100, (2048, 1556))
    assert info.targets == () and report.warnings == ()


def test_cgru_reads_writes_and_ranges(scenes: Path) -> None:
    folder = scenes / "nuke" / "cgru"
    report = read_scene(folder / "scene.nk", env={})
    render = folder / "render"
    assert [(a.source, a.path) for a in report.dependencies] == [
        ("Read3.file", str(render / "key.####.exr")),
        ("Read2.file", str(render / "back.####.exr")),
        ("Read1.file", str(render / "final.####.exr")),
        ("Read15.file", str(render / "preview.####.jpg")),
    ]
    for asset in report.dependencies:
        assert not asset.exists and len(asset.missing_files) == 11  # frames 1-11 held
        assert asset.missing_files[0].endswith(".0001.exr") or asset.missing_files[0].endswith(
            ".0001.jpg"
        )
    info = report.info
    assert [t.name for t in info.targets] == ["heavy", "Write1", "key", "back", "final", "preview"]
    assert info.targets[0].output == str(render / "heavy.%04d.jpg")
    assert (info.frame_start, info.frame_end, info.fps, info.resolution) == (
        1,
        11,
        25.0,
        (720, 576),
    )
    assert info.output_format == "jpeg"
    assert not any("proxy" in a.path for a in [*report.dependencies, *report.outputs])


def test_cgru_old_reads_every_sequence_once(scenes: Path) -> None:
    folder = scenes / "nuke" / "cgru-old"
    report = read_nuke_script(str(folder / "scene.nk"), env={})
    names = sorted(Path(a.path).name for a in report.dependencies)
    letters = ["0", "a", "b", "c", "d", "e", "f", "g", "h"]
    expected = sorted([f"test_{x}.%04d.exr" for x in letters] + [
        "back.%04d.exr", "key.%04d.exr", "final.%04d.exr",
    ])  # fmt: skip
    assert names == expected
    assert len(report.info.targets) == 15 and report.info.fps == 25.0


@pytest.mark.parametrize(
    ("scene", "frames", "resolution"),
    [("cgru-old/heavy/scene.nk", (1, 100), (4096, 3112)),
     ("cgru-old/tclcmd/scene.nk", (1, 100), (640, 480))],
)  # fmt: skip
def test_scripts_with_one_write(
    scenes: Path, scene: str, frames: tuple[int, int], resolution: tuple[int, int]
) -> None:
    path = scenes / "nuke" / scene
    report = read_nuke_script(str(path), env={})
    assert report.dependencies == ()
    assert [t.output for t in report.info.targets] == [str(path.parent / "render/img.%04d.jpg")]
    assert (report.info.frame_start, report.info.frame_end) == frames
    assert report.info.resolution == resolution


def test_a_toolset_whose_path_needs_its_input_is_listed_as_written(scenes: Path) -> None:
    report = read_nuke_script(str(scenes / "nuke" / "jedypod" / "ReadWrite.nk"), env={})
    (target,) = report.info.targets
    assert target.name == "ReadWrite3" and target.output == "./[value read_filename].%05d.exr"
    assert len(report.warnings) == 1 and "[topnode]" in report.warnings[0]


# --- scripts written here ----------------------------------------------------------------------

SCRIPT = r"""#! /usr/local/Nuke14.0v5/libnuke-14.0.5.so -nx
version 14.0 v5
Root {
 inputs 0
 name /somewhere/else/comp.nk
 first_frame 1001
 last_frame 1004
 fps 24
 format "1920 1080 0 0 1920 1080 1 HD_1080"
 views {{left ""} {right ""}}
 OCIO_config custom
 customOCIOConfigPath "\[getenv SHOW_ROOT]/ocio/config.ocio"
}
Read {
 inputs 0
 file "\[getenv SHOW_ROOT]/plates/bg.%V.####.exr"
 first 1001
 last 1003
 name Plate
}
Read {
 inputs 0
 file C:/plates/legacy.####.dpx
 first 1001
 last 1004
 name Legacy
}
Read {
 inputs 0
 file "\[python nuke.script_directory()]/elements/flare.exr"
 name Flare
 disable true
}
ReadGeo2 {
 inputs 0
 file "\[file dirname \[value root.name]]/geo/set.abc"
 name Set
}
Camera2 {
 inputs 0
 read_from_file true
 file "\[file rootname \[value Set.file]]_cam.abc"
 name ShotCam
}
OCIOFileTransform {
 file luts/show.cube
 name Lut
}
Group {
 name Inner
}
 Read {
  inputs 0
  file "\[value parent.name]_\[value name].exr"
  name Deep
 }
end_group
Write {
 file "render/comp.%v.####.exr"
 proxy "render/comp_proxy.%v.####.exr"
 views {left right}
 file_type exr
 use_limit true
 first 1002
 last 1003
 name Out
}
"""


@pytest.fixture
def comp(tmp_path: Path) -> Path:
    show = tmp_path / "show"
    plates = show / "plates"
    plates.mkdir(parents=True)
    for view in ("left", "right"):
        for frame in (1001, 1002, 1003):
            if (view, frame) != ("right", 1002):
                (plates / f"bg.{view}.{frame}.exr").write_bytes(b"x")
    (show / "ocio").mkdir()
    (show / "ocio" / "config.ocio").write_text("ocio_profile_version: 2\n")
    script = tmp_path / "comp" / "comp.nk"
    script.parent.mkdir()
    script.write_text(SCRIPT.replace("SHOW_ROOT", "SHOW_ROOT"))
    (script.parent / "geo").mkdir()
    (script.parent / "geo" / "set.abc").write_bytes(b"abc")
    return script


def test_views_getenv_held_frames_windows_paths_and_groups(comp: Path, tmp_path: Path) -> None:
    show = tmp_path / "show"
    report = read_nuke_script(str(comp), env={"SHOW_ROOT": str(show)})
    assets = {a.path: a for a in report.dependencies}
    left = assets[f"{show}/plates/bg.left.####.exr"]
    assert left.exists and len(left.files) == 3  # 1004 holds 1003, the last frame
    right = assets[f"{show}/plates/bg.right.####.exr"]
    assert not right.exists and right.missing_files == (f"{show}/plates/bg.right.1002.exr",)
    legacy = assets["C:/plates/legacy.####.dpx"]
    assert not legacy.exists and len(legacy.missing_files) == 4  # kept as written, not found
    folder = comp.parent
    assert assets[str(folder / "geo" / "set.abc")].kind is AssetKind.CACHE
    camera = by_source(report.dependencies)["ShotCam.file"]
    assert camera.path == str(folder / "geo" / "set_cam.abc")  # type: ignore[attr-defined]
    assert assets[str(folder / "luts" / "show.cube")].source == "Lut.file"
    assert assets[f"{show}/ocio/config.ocio"].exists
    assert str(folder / "Inner_Deep.exr") in assets  # [value parent.name] inside a group
    assert not any("flare" in p for p in assets)  # disabled
    (out,) = report.info.targets
    assert out.output == str(folder / "render/comp.%v.####.exr")
    assert [o.path for o in report.outputs] == [
        str(folder / "render/comp.l.####.exr"),
        str(folder / "render/comp.r.####.exr"),
    ]
    assert report.info.extra["target_frames"] == {"Out": "1002-1003"}
    assert report.info.extra["views"] == ["left", "right"]


def test_proxy_mode_reads_and_writes_the_proxy_files(comp: Path, tmp_path: Path) -> None:
    comp.write_text(comp.read_text().replace(" fps 24\n", " fps 24\n proxy true\n"))
    report = read_nuke_script(str(comp), env={"SHOW_ROOT": str(tmp_path)})
    assert report.info.targets[0].output.endswith("render/comp_proxy.%v.####.exr")


def test_an_unset_variable_is_reported_and_the_path_kept(comp: Path) -> None:
    report = read_nuke_script(str(comp), env={})
    assert any("SHOW_ROOT" in w for w in report.warnings)
    assert "[getenv SHOW_ROOT]/plates/bg.left.####.exr" in {a.path for a in report.dependencies}


def test_stack_wiring_and_tcl_quoting() -> None:
    script = parse_nuke_script(
        'Read {\n inputs 0\n file "a \\"b\\".exr"\n name R\n}\n'
        "set N1 [stack 0]\nBlur {\n name B\n}\npush $N1\nMerge2 {\n inputs 2\n name M\n}\n"
    )
    read, blur, merge = script.nodes
    assert read.knobs["file"] == 'a "b".exr'
    assert blur.inputs == [read] and merge.inputs == [read, blur]


@pytest.mark.parametrize(
    ("first", "last", "kwargs", "frames"),
    [
        (1, 5, {}, [1, 2, 3, 4, 5]),
        (3, 4, {}, [3, 4]),  # held outside 3-4
        (3, 4, {"before": "black", "after": "black"}, [3, 4]),
        (101, 110, {"frame_mode": "start at", "offset": 1}, [101, 102, 103, 104, 105]),
        (1, 100, {"frame_mode": "offset", "offset": 10}, [1]),
    ],
)
def test_frames_a_read_needs(first: int, last: int, kwargs: dict, frames: list[int]) -> None:
    assert read_frames(range(1, 6), first, last, **kwargs) == frames
