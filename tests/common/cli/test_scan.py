"""``cloudburst scan``: facts and dependencies of real scene files and of files written here,
exit codes 0 (nothing missing), 3 (something missing) and 1 (cannot scan)."""

from __future__ import annotations

import json
import os
import time
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from common.cli.main import cli
from common.cli.scan import EXIT_MISSING
from common.errors import InvalidInput
from common.scene_readers import plugins
from common.scene_readers.plugins import reader_for
from tests.conftest import SHARED

SCENES = SHARED / "scenes"
OLD = time.time() - 3600


def real_scenes() -> list[Path]:
    if not SCENES.is_dir():
        return []
    kinds = {".ma", ".nk", ".hip", ".hipnc", ".hiplc", ".blend"}
    return sorted(p for p in SCENES.rglob("*") if p.suffix.lower() in kinds)


@pytest.fixture
def scenes() -> Path:
    if not SCENES.is_dir():
        pytest.skip(f"the real test scenes are not here ({SCENES} is missing)")
    return SCENES


def scan(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    cache = str(tmp_path / "cache" / "scan.sqlite3")
    runner = CliRunner(env={"COLUMNS": "250", **(env or {})})
    return runner.invoke(cli, ["scan", *args, "--cache", cache])


def scan_json(tmp_path: Path, scene: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = scan(tmp_path, str(scene), "--json", env=env)
    assert result.exit_code in (0, EXIT_MISSING), result.output
    data: dict[str, Any] = json.loads(result.output)
    assert result.exit_code == (EXIT_MISSING if data["missing"] else 0)
    return data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {os.path.basename(a["path"]): a for a in data["dependencies"]}


@pytest.fixture
def shot(tmp_path: Path) -> Path:
    """``shot.ma`` using ``tex/wood.png`` (present), ``tex/rust.png`` (missing) and a
    ``####`` sequence with frames 1 and 2 of 1-3; all aged past the cache's racy window."""
    tex = tmp_path / "proj" / "tex"
    tex.mkdir(parents=True)
    (tex / "wood.png").write_bytes(b"wood")
    for frame in (1, 2):
        (tex / f"flicker.{frame:04d}.png").write_bytes(b"f")
    scene = tmp_path / "proj" / "shot.ma"
    scene.write_text(
        '//Maya ASCII 2024 scene\nrequires maya "2024";\n'
        f'createNode file -n "wood";\n\tsetAttr ".ftn" -type "string" "{tex}/wood.png";\n'
        f'createNode file -n "rust";\n\tsetAttr ".ftn" -type "string" "{tex}/rust.png";\n'
        f'createNode file -n "flicker";\n\tsetAttr ".ftn" -type "string" '
        f'"{tex}/flicker.0001.png";\n\tsetAttr ".ufe" yes;\n'
        'select -ne :defaultRenderGlobals;\n\tsetAttr ".an" yes;\n'
        '\tsetAttr ".sf" 1;\n\tsetAttr ".ef" 3;\n'
    )
    for path in [*tex.iterdir(), tex, scene]:
        os.utime(path, (OLD, OLD))
    return scene


def test_a_scene_with_missing_files_exits_3_and_lists_them(tmp_path: Path, shot: Path) -> None:
    data = scan_json(tmp_path, shot)
    assert data["info"]["dcc"] == "maya"
    assert (data["info"]["frame_start"], data["info"]["frame_end"]) == (1, 3)
    deps = by_name(data)
    assert deps["wood.png"]["exists"] is True and deps["wood.png"]["size"] == 4
    assert deps["rust.png"]["exists"] is False
    sequence = next(a for a in data["dependencies"] if "flicker" in a["path"])
    assert [os.path.basename(f) for f in sequence["files"]] == [
        "flicker.0001.png", "flicker.0002.png",
    ]  # fmt: skip
    assert [os.path.basename(f) for f in sequence["missing_files"]] == ["flicker.0003.png"]
    assert sorted(os.path.basename(p) for p in data["missing"]) == sorted(
        ["rust.png", os.path.basename(sequence["path"])]
    )


def test_the_table_shows_found_and_missing_files(tmp_path: Path, shot: Path) -> None:
    result = scan(tmp_path, str(shot))
    assert result.exit_code == EXIT_MISSING, result.output
    assert "MISSING" in result.output and "rust.png" in result.output
    assert "missing " in result.output and "flicker.0003.png" in result.output
    assert "2 of 3 dependencies missing." in result.output


def test_a_file_found_by_maya_s_rules_says_which_rule(tmp_path: Path, shot: Path) -> None:
    text = shot.read_text().replace(str(shot.parent / "tex"), "C:/Users/ana/proj//tex")
    shot.write_text(text)
    (shot.parent / "workspace.mel").write_text("")
    data = scan_json(tmp_path, shot)
    assert by_name(data)["wood.png"]["exists"] is True
    assert by_name(data)["wood.png"]["found_by"] == "project marker //"
    assert "found by: project marker //" in scan(tmp_path, str(shot)).output


def test_nothing_missing_exits_0_and_the_second_scan_agrees(tmp_path: Path, shot: Path) -> None:
    tex = shot.parent / "tex"
    (tex / "rust.png").write_bytes(b"rust")
    (tex / "flicker.0003.png").write_bytes(b"f")
    for path in [*tex.iterdir(), tex]:
        os.utime(path, (OLD, OLD))
    first = scan_json(tmp_path, shot)
    again = scan_json(tmp_path, shot)  # from the cache this time
    assert first["missing"] == [] and again == first
    result = scan(tmp_path, str(shot))
    assert result.exit_code == 0 and "All 3 dependencies found." in result.output


def test_no_cache_reads_the_scene(tmp_path: Path, shot: Path) -> None:
    result = CliRunner().invoke(cli, ["scan", str(shot), "--json", "--no-cache"])
    assert result.exit_code == EXIT_MISSING
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", "hello", "scenes of kind .txt are not known. Known kinds: .blend"),
        ("broken.ma", "not maya", "Maya ASCII"),
        ("broken.blend", "not a blend file", "as a .blend file"),
        ("shot.mb", "binary", "Maya binary scene"),
        ("absent.nk", None, "does not exist"),
    ],
)
def test_what_cannot_be_scanned_exits_1_with_the_reason(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = scan(tmp_path, str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_help_explains_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["scan", "--help"])
    assert result.exit_code == 0
    assert "0 when nothing is missing, 3 when something is" in " ".join(result.output.split())


def test_a_blend_reader_that_cannot_be_imported_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = {".blend": EntryPoint(".blend", "no_such_mod:read", plugins.READER_GROUP)}
    monkeypatch.setattr(plugins, "plugin_readers", lambda: broken)
    with pytest.raises(InvalidInput, match=r"cloudburst\[gui\]"):
        reader_for(tmp_path / "shot.blend")


# --- the real scene files --------------------------------------------------------------------


@pytest.mark.parametrize("scene", real_scenes(), ids=lambda p: str(p.relative_to(SCENES)))
def test_every_real_scene_scans(tmp_path: Path, scene: Path) -> None:
    data = scan_json(tmp_path, scene)
    assert data["info"]["scene_path"] == str(scene)
    for asset in data["dependencies"]:
        missing = not asset["exists"] and asset["evaluated"]  # expressions are not missing
        assert (asset["path"] in data["missing"]) is missing


def test_real_maya_references_through_mayafilebase(tmp_path: Path, scenes: Path) -> None:
    mrv = scenes / "maya" / "mrv"
    data = scan_json(tmp_path, mrv / "ma" / "refbase.ma", env={"MAYAFILEBASE": str(mrv)})
    assert sorted(by_name(data)) == sorted(
        ["cube.ma", "cylinder.ma", "sphere.ma", "subrefbase.ma", "subsubrefbase.ma"]
    )
    assert data["missing"] == []


def test_real_nuke_sequences_list_their_missing_frames(tmp_path: Path, scenes: Path) -> None:
    data = scan_json(tmp_path, scenes / "nuke" / "cgru-old" / "scene.nk")
    test_a = by_name(data)["test_a.%04d.exr"]
    assert test_a["exists"] is False and len(test_a["missing_files"]) == 11
    assert test_a["missing_files"][0].endswith("test_a.0001.exr")


def test_real_blend_facts_come_from_the_file(tmp_path: Path, scenes: Path) -> None:
    pytest.importorskip("blender_asset_tracer", reason="the gui extra is not installed")
    data = scan_json(tmp_path, scenes / "blend" / "cgru" / "scene.blend")
    info = data["info"]
    assert info["dcc"] == "blender"
    assert (info["frame_start"], info["frame_end"], info["fps"]) == (1, 250, 24.0)
    assert info["resolution"] == [1280, 720] and info["renderer"] == "eevee"
    assert info["cameras"] == ["Camera"] and info["output"] == "./render/render.####"
    assert [t["name"] for t in info["targets"]] == ["View Layer"]
    assert any("Needs Blender" in w for w in data["warnings"])


def test_real_blend_sequences_through_blender_asset_tracer(tmp_path: Path, scenes: Path) -> None:
    pytest.importorskip("blender_asset_tracer", reason="the gui extra is not installed")
    particles = scan_json(tmp_path, scenes / "blend" / "bat-tests" / "T55539-particles" /
                          "particle.blend")  # fmt: skip
    (cache,) = particles["dependencies"]
    assert cache["exists"] is True and len(cache["files"]) > 20
    sequencer = scan_json(tmp_path, scenes / "blend" / "bat-tests" / "image_sequencer.blend")
    frames = next(a for a in sequencer["dependencies"] if a["path"].endswith("######.png"))
    assert [os.path.basename(f) for f in frames["missing_files"]] == ["000210.png"]


def test_a_cache_that_cannot_open_only_costs_speed(tmp_path: Path, shot: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    result = CliRunner().invoke(cli, ["scan", str(shot), "--json", "--cache", f"{blocker}/c.db"])
    assert result.exit_code == EXIT_MISSING
    assert json.loads(result.stdout)["info"]["dcc"] == "maya"
