"""Maya's file path resolution: files not where the scene says are found as Maya finds them.

Each file of the scene below is written with a path from another machine; the test project
holds it where one of Maya's rules (``common/scene_readers/maya_paths.py``) finds it, and the
reader must find it there and name the rule. Before these rules, all but the first were
reported missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from common.host import AssetKind
from common.scene_readers import maya_paths
from common.scene_readers.maya_report import read_maya_ascii

SCENE = r"""//Maya ASCII 2024 scene
requires maya "2024";
currentUnit -l centimeter -a degree -t film;
file -rdi 1 -ns "lamp" -rfn "lampRN" "C:/Users/ana/jobs/show//scenes/props/lamp.ma";
file -r -ns "lamp" -dr 1 -rfn "lampRN" "C:/Users/ana/jobs/show//scenes/props/lamp.ma";
createNode file -n "rel";
	setAttr ".ftn" -type "string" "sourceimages/rel.png";
createNode file -n "marker";
	setAttr ".ftn" -type "string" "C:/Users/ana/jobs/show//sourceimages/wood.png";
createNode file -n "tail";
	setAttr ".ftn" -type "string" "D:\\jobs\\show\\sourceimages\\brick\\brick.png";
createNode file -n "rule";
	setAttr ".ftn" -type "string" "/mnt/old/stone.png";
createNode file -n "beside";
	setAttr ".ftn" -type "string" "/elsewhere/leaf.png";
createNode file -n "tiles";
	setAttr ".ftn" -type "string" "Z:/show/sourceimages/skin.1001.exr";
	setAttr ".uvt" 3;
createNode file -n "gone";
	setAttr ".ftn" -type "string" "/nowhere/gone.png";
"""

LAMP = """//Maya ASCII 2024 scene
requires maya "2024";
createNode file -n "bulb";
	setAttr ".ftn" -type "string" "C:/Users/ana/jobs/show//sourceimages/bulb.png";
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for folder in ("scenes/shots", "scenes/props", "sourceimages/brick", "textures"):
        (root / folder).mkdir(parents=True)
    (root / "workspace.mel").write_text(
        'workspace -fr "images" "renders";\nworkspace -fr "sourceImages" "textures";\n'
    )
    (root / "scenes" / "shots" / "shot.ma").write_text(SCENE)
    (root / "scenes" / "props" / "lamp.ma").write_text(LAMP)
    for name in ("rel.png", "wood.png", "bulb.png", "brick/brick.png"):
        (root / "sourceimages" / name).write_bytes(b"png")
    (root / "textures" / "stone.png").write_bytes(b"png")
    (root / "scenes" / "shots" / "leaf.png").write_bytes(b"png")
    for tile in (1001, 1002):
        (root / "sourceimages" / f"skin.{tile}.exr").write_bytes(b"exr")
    return root


def test_each_file_is_found_by_the_rule_maya_uses_and_the_rule_is_named(project: Path) -> None:
    report = read_maya_ascii(str(project / "scenes" / "shots" / "shot.ma"), env={})
    found = {a.source: (a.path, a.exists, a.found_by) for a in report.dependencies}
    src, shots = project / "sourceimages", project / "scenes" / "shots"
    assert found["rel.fileTextureName"] == (str(src / "rel.png"), True, maya_paths.PROJECT)
    assert found["marker.fileTextureName"] == (
        str(src / "wood.png"),
        True,
        maya_paths.PROJECT_MARKER,
    )
    assert found["tail.fileTextureName"] == (
        str(src / "brick" / "brick.png"),
        True,
        maya_paths.PROJECT_TAIL,
    )
    assert found["rule.fileTextureName"] == (
        str(project / "textures" / "stone.png"),
        True,
        f"{maya_paths.FILE_RULE} (sourceImages)",
    )
    assert found["beside.fileTextureName"] == (
        str(shots / "leaf.png"),
        True,
        maya_paths.BESIDE_SCENE,
    )
    assert found["gone.fileTextureName"] == ("/nowhere/gone.png", False, "")
    tiles = next(a for a in report.dependencies if a.source == "tiles.fileTextureName")
    assert tiles.exists and tiles.found_by == maya_paths.PROJECT_TAIL
    assert [Path(f).name for f in tiles.files] == ["skin.1001.exr", "skin.1002.exr"]
    assert [a.source for a in report.missing] == ["gone.fileTextureName"]


def test_a_drive_letter_reference_is_found_by_the_project_marker_and_read(project: Path) -> None:
    report = read_maya_ascii(str(project / "scenes" / "shots" / "shot.ma"), env={})
    lamp = next(a for a in report.dependencies if a.kind is AssetKind.REFERENCE)
    assert lamp.path == str(project / "scenes" / "props" / "lamp.ma")
    assert lamp.exists and lamp.found_by == maya_paths.PROJECT_MARKER
    bulb = next(a for a in report.dependencies if a.source == "lamp:bulb.fileTextureName")
    assert bulb.path == str(project / "sourceimages" / "bulb.png") and bulb.exists


def test_a_file_found_where_it_is_written_names_no_rule(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"png")
    asset = maya_paths.resolve(
        str(tmp_path / "a.png"),
        AssetKind.IMAGE,
        project=maya_paths.Project.at(str(tmp_path / "nowhere")),
        scene_path="",
        env={},
    )
    assert asset.exists and asset.found_by == ""


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("C:/a//b/c.png", ["b/c.png"]),
        ("//server/share/proj//src/c.png", ["src/c.png"]),
        ("D:\\x\\y\\c.png", []),
    ],
)
def test_the_project_marker_is_the_part_after_the_double_slash(
    written: str, expected: list[str]
) -> None:
    project = maya_paths.Project("/p")
    found = [
        path[len("/p/") :]
        for rule, path in maya_paths.candidates(written, AssetKind.IMAGE, project, "", {})
        if rule == maya_paths.PROJECT_MARKER
    ]
    assert found == expected
