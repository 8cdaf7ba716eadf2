"""The Maya ASCII reader on the real ``.ma`` files of mrv's test suite and on files written here.

What a careful reading of the real files shows (``../shared/scenes/maya/mrv/ma``):

* ``refbase.ma`` references ``cube``, ``cylinder``, ``sphere`` and ``subrefbase`` through
  ``$MAYAFILEBASE/ma/...`` (mrv's tests set ``MAYAFILEBASE`` to the fixtures folder, the folder
  above ``ma``); its ``file -rdi 2`` lines show that ``subrefbase`` references ``cube``,
  ``cylinder`` and ``sphere`` again, and ``subrefbase.ma`` itself adds ``subsubrefbase``, which
  references the three shapes once more. ``subrefbaseRN`` also keeps a stale ``.fn[0]`` naming
  ``/home/sebastian/...`` where the file once was: Maya loads the ``file -r`` path, not that.
* The others have no references and no file textures (``shadertest.ma`` uses lambert shaders
  with colours only). All play ``-min 1.041667 -max 25`` at ``pal`` (25 fps) or ``1..24`` at
  ``film``; only ``persp`` renders (the other cameras are set ``.rnd no``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import InvalidInput
from common.host import AssetKind
from common.scene_readers import read_scene
from common.scene_readers.maya_ascii import parse_maya_ascii
from common.scene_readers.maya_report import read_maya_ascii

SHAPES = ("cube.ma", "cylinder.ma", "sphere.ma")


def names(report: object) -> list[str]:
    return sorted(Path(a.path).name for a in report.dependencies)  # type: ignore[attr-defined]


@pytest.fixture
def mrv(scenes: Path) -> Path:
    return scenes / "maya" / "mrv"


@pytest.mark.parametrize(
    ("scene", "expected"),
    [
        ("refbase.ma", [*SHAPES, "subrefbase.ma", "subsubrefbase.ma"]),
        ("subrefbase.ma", [*SHAPES, "subsubrefbase.ma"]),
        ("subsubrefbase.ma", list(SHAPES)),
        ("cube.ma", []),
        ("ref8m.ma", []),
        ("ref10m.ma", []),
        ("shadertest.ma", []),
    ],
)
def test_references_of_the_real_files_at_any_depth(
    mrv: Path, scene: str, expected: list[str]
) -> None:
    report = read_maya_ascii(str(mrv / "ma" / scene), env={"MAYAFILEBASE": str(mrv)})
    assert names(report) == sorted(expected)
    assert all(a.exists and a.kind is AssetKind.REFERENCE for a in report.dependencies)
    assert all(Path(a.path).parent == mrv / "ma" for a in report.dependencies)
    assert not any("sebastian" in a.path for a in report.dependencies)  # the stale .fn[0]


def test_mayafilebase_expands_and_the_written_path_is_kept_as_source(mrv: Path) -> None:
    report = read_maya_ascii(str(mrv / "ma" / "refbase.ma"), env={"MAYAFILEBASE": str(mrv)})
    by_name = {Path(a.path).name: a for a in report.dependencies}
    assert by_name["cube.ma"].path == str(mrv / "ma" / "cube.ma")
    assert by_name["cube.ma"].source == "cubeRN (file -r '$MAYAFILEBASE/ma/cube.ma')"
    assert by_name["subsubrefbase.ma"].source.startswith("subrefbase:subsubrefbaseRN")
    assert by_name["cube.ma"].size == (mrv / "ma" / "cube.ma").stat().st_size


def test_without_mayafilebase_references_are_found_beside_the_scene(mrv: Path) -> None:
    """Maya looks for an unresolved reference by name in the referencing scene's folder."""
    report = read_maya_ascii(str(mrv / "ma" / "refbase.ma"), env={})
    assert names(report) == sorted([*SHAPES, "subrefbase.ma", "subsubrefbase.ma"])
    assert all(a.exists for a in report.dependencies)
    assert report.warnings == ()


@pytest.mark.parametrize(
    ("scene", "frames", "fps"),
    [("refbase.ma", (1, 25), 25.0), ("ref8m.ma", (1, 24), 24.0), ("cube.ma", (1, 25), 25.0)],
)
def test_scene_facts_of_the_real_files(
    mrv: Path, scene: str, frames: tuple[int, int], fps: float
) -> None:
    info = read_scene(mrv / "ma" / scene, env={}).info
    assert (info.frame_start, info.frame_end, info.fps) == (*frames, fps)
    assert info.dcc == "maya" and info.renderer == "mayaSoftware"
    assert info.cameras == ("persp",)
    assert [t.name for t in info.targets] == ["defaultRenderLayer"]
    stem = scene.removesuffix(".ma")
    assert info.output == str(mrv / "ma" / "images" / f"{stem}.####.iff")
    assert info.extra["frame_range_source"] == "time slider"
    assert info.extra["maya_version"] == "8.5"


# --- files written here ------------------------------------------------------------------------

SCENE = """//Maya ASCII 2024 scene
//Name: shot.ma
requires maya "2024";
requires "mtoa" "5.3.1";
requires "AbcImport" "1.0";
currentUnit -l centimeter -a degree -t ntsc;
file -rdi 1 -ns "chr" -rfn "chrRN" "${ASSETS}/chr/hero.ma";
file -rdi 1 -ns "env" -dr 1 -rfn "envRN" "assets/env.mb";
file -r -ns "chr" -dr 1 -rfn "chrRN" "${ASSETS}/chr/hero.ma";
file -r -ns "env" -dr 1 -rfn "envRN" "assets/env.mb";
createNode transform -s -n "persp";
createNode camera -s -n "perspShape" -p "persp";
\tsetAttr -k off ".v" no;
\tsetAttr ".rnd" no;
createNode transform -n "shotCam";
createNode camera -n "shotCamShape" -p "shotCam";
createNode file -n "wood";
\tsetAttr ".ftn" -type "string" "sourceimages/wood.png";
createNode file -n "skin";
\tsetAttr ".ftn" -type "string" "/tex/skin.1001.exr";
\tsetAttr ".uvt" 3;
createNode file -n "flicker";
\tsetAttr ".ftn" -type "string" "sourceimages/flicker.0001.png";
\tsetAttr ".ufe" yes;
createNode file -n "legacy";
\tsetAttr ".ftn" -type "string" "D:\\\\textures\\\\old.tif";
createNode AlembicNode -n "anim_abc";
\tsetAttr ".fn" -type "string" "cache/anim.abc";
createNode gpuCache -n "treesShape";
\tsetAttr ".cfn" -type "string" "cache/trees.abc";
createNode aiStandIn -n "crowdShape";
\tsetAttr ".dso" -type "string" "cache/crowd.####.ass";
createNode renderLayer -n "bg";
\tsetAttr ".rndr" no;
createNode renderLayer -n "fg";
select -ne :defaultRenderGlobals;
\tsetAttr ".ren" -type "string" "arnold";
\tsetAttr ".an" yes;
\tsetAttr ".sf" 101;
\tsetAttr ".ef" 103;
\tsetAttr ".ifp" -type "string" "<Scene>/<RenderLayer>/<Scene>";
select -ne :defaultResolution;
\tsetAttr ".w" 1920;
\tsetAttr ".h" 1080;
createNode aiAOVDriver -s -n "defaultArnoldDriver";
\tsetAttr ".ai_translator" -type "string" "exr";
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "scenes").mkdir(parents=True)
    (root / "workspace.mel").write_text('workspace -fr "images" "renders";\n')
    (root / "scenes" / "shot.ma").write_text(SCENE)
    src = root / "sourceimages"
    src.mkdir()
    (src / "wood.png").write_bytes(b"png")
    (src / "wood.tx").write_bytes(b"tx!")
    for frame in (101, 103):  # 102 is missing
        (src / f"flicker.{frame:04d}.png").write_bytes(b"p")
    (root / "cache").mkdir()
    (root / "cache" / "anim.abc").write_bytes(b"abc")
    (tmp_path / "tex").mkdir()
    return root


def test_textures_tiles_sequences_caches_and_tx(project: Path, tmp_path: Path) -> None:
    text = SCENE.replace("/tex/", f"{tmp_path}/tex/")
    (project / "scenes" / "shot.ma").write_text(text)
    for tile in (1001, 1002):
        (tmp_path / "tex" / f"skin.{tile}.exr").write_bytes(b"e")
    assets = {
        a.source: a for a in read_maya_ascii(str(project / "scenes" / "shot.ma"), {}).dependencies
    }
    wood = assets["wood.fileTextureName"]
    assert wood.path == str(project / "sourceimages" / "wood.png") and wood.exists  # project
    assert assets["wood.fileTextureName (.tx)"].path == str(project / "sourceimages" / "wood.tx")
    skin = assets["skin.fileTextureName"]
    assert skin.path == f"{tmp_path}/tex/skin.<UDIM>.exr" and skin.exists
    assert [Path(f).name for f in skin.files] == ["skin.1001.exr", "skin.1002.exr"]
    flicker = assets["flicker.fileTextureName"]
    assert flicker.path == str(project / "sourceimages" / "flicker.####.png")
    assert not flicker.exists and [Path(f).name for f in flicker.files] == [
        "flicker.0101.png",
        "flicker.0103.png",
    ]
    assert flicker.missing_files == (str(project / "sourceimages" / "flicker.0102.png"),)
    legacy = assets["legacy.fileTextureName"]
    assert legacy.path == "D:\\textures\\old.tif" and not legacy.exists  # kept as written
    assert assets["anim_abc.abc_File"].exists and assets["anim_abc.abc_File"].kind == "cache"
    assert not assets["treesShape.cacheFileName"].exists
    crowd = assets["crowdShape.dso"]
    assert crowd.path.endswith("cache/crowd.####.ass") and len(crowd.missing_files) == 3


def test_references_unloaded_and_unset_variables(project: Path) -> None:
    report = read_maya_ascii(str(project / "scenes" / "shot.ma"), {})
    refs = [a for a in report.dependencies if a.kind is AssetKind.REFERENCE]
    assert [r.path for r in refs] == ["${ASSETS}/chr/hero.ma"]  # unset: kept as written
    assert not refs[0].exists
    assert any("envRN" in w and "unloaded" in w for w in report.warnings)
    assert any("variable" in w for w in report.warnings)
    (project / "chr").mkdir()
    (project / "chr" / "hero.ma").write_text('//Maya ASCII 2024 scene\nrequires maya "2024";\n')
    again = read_maya_ascii(str(project / "scenes" / "shot.ma"), {"ASSETS": str(project)})
    hero = [a for a in again.dependencies if a.kind is AssetKind.REFERENCE]
    assert [(h.path, h.exists) for h in hero] == [(str(project / "chr" / "hero.ma"), True)]


def test_render_settings_layers_and_cameras(project: Path) -> None:
    report = read_maya_ascii(str(project / "scenes" / "shot.ma"), {})
    info = report.info
    assert (info.frame_start, info.frame_end, info.fps) == (101, 103, 30.0)
    assert info.renderer == "arnold" and info.output_format == "exr"
    assert info.resolution == (1920, 1080)
    assert info.cameras == ("shotCam",)  # persp does not render
    layers = {t.name: t for t in info.targets}
    assert list(layers) == ["defaultRenderLayer", "bg", "fg"]
    assert not layers["bg"].enabled and layers["fg"].enabled
    images = project / "renders"
    assert layers["fg"].output == str(images / "shot" / "fg" / "shot.####.exr")
    assert layers["defaultRenderLayer"].output == str(images / "shot/masterLayer/shot.####.exr")
    assert info.extra["plugins"] == ["AbcImport", "mtoa"]
    assert [o.source for o in report.outputs] == ["defaultRenderLayer", "fg"]


def test_statements_with_quotes_comments_and_multiline_values() -> None:
    scene = parse_maya_ascii(
        "//Maya ASCII 2020 scene\n"
        "// a comment; with a semicolon\n"
        'createNode file -n "f1";\n'
        '\tsetAttr ".ftn" -type "string" "/a \\"quoted\\" path;x.png";\n'
        'createNode reference -n "xRN";\n'
        '\tsetAttr ".ed" -type "dataReferenceEdits" \n\t\t"xRN"\n\t\t"xRN" 0;\n'
    )
    assert scene.nodes["f1"].string("ftn") == '/a "quoted" path;x.png'
    assert scene.nodes["xRN"].attrs["ed"] == ["xRN", "xRN", "0"]


def test_a_file_that_is_not_maya_ascii_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.ma"
    bad.write_text("not maya")
    with pytest.raises(InvalidInput, match="not a Maya ASCII file"):
        read_scene(bad)
