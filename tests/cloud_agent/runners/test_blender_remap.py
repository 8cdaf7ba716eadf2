"""``blender_remap.py``: a studio scene rendered from a workspace copy looks the same.

The slow tests write a small studio tree with real Blender (``tests/e2e/studio_scene.py``: a
shot that LINKS a library and uses a texture, both by absolute path), render it where it is,
then copy it to a workspace, delete the studio and render the copy through the runner's
command with the path map. The renders match pixel for pixel: Cycles on the CPU with a fixed
seed, no denoising and the same files gives the same bytes of pixels.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from cloud_agent.process import ManagedProcess
from cloud_agent.runners import blender_remap
from cloud_agent.runners.blender import REMAP_SCRIPT, BlenderRunner, resolve_blender
from cloud_agent.runners.path_map_file import (
    PATH_MAP_ENV,
    PathMap,
    index_files,
    write_path_map,
)
from common.errors import RenderError
from common.models import TaskAssignment
from tests.cloud_agent.runners.test_path_map_file import FILES, LOOKUPS, RULES
from tests.e2e.studio_scene import LIBRARY, SHOT, TEXTURE, make_studio_scene

needs_bpy = pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="no bpy")


# --- the script's pure parts --------------------------------------------------------------------


@pytest.mark.parametrize(("path", "local"), LOOKUPS)
def test_the_scripts_copy_of_lookup_agrees(path: str, local: str | None) -> None:
    assert blender_remap.lookup(path, index_files(FILES), list(RULES)) == local
    assert PathMap(files=FILES, rules=RULES).lookup(path) == local


@pytest.mark.parametrize(
    ("path", "blend", "expected"),
    [
        ("//tex/a.png", "/mnt/studio/show/shots/sh010.blend", "/mnt/studio/show/shots/tex/a.png"),
        ("//../tex/a.png", "/mnt/studio/show/shots/sh010.blend", "/mnt/studio/show/tex/a.png"),
        ("//..\\tex\\a.png", "P:\\show\\shots\\sh010.blend", "P:/show/tex/a.png"),
        ("//../../a.png", "/sh010.blend", "/a.png"),
        ("//tex/a.png", "//fs01/projects/sh010.blend", "//fs01/projects/tex/a.png"),
        ("//tex/a.png", None, None),  # relative, and the studio scene unknown
        ("/mnt/studio/a.png", None, "/mnt/studio/a.png"),
        ("tex/a.png", "/mnt/studio/sh010.blend", None),
    ],
)
def test_studio_path(path: str, blend: str | None, expected: str | None) -> None:
    assert blender_remap.studio_path(path, blend) == expected


def test_present_checks_udim_tiles_and_sequences(tmp_path: Path) -> None:
    for name in ("u.1001.png", "u.1002.png", "seq.0004.png", "plain.png"):
        (tmp_path / name).touch()
    present = blender_remap.present
    assert present(str(tmp_path / "plain.png"), [], sequence=False)
    assert present(str(tmp_path / "u.<UDIM>.png"), [1001, 1002], sequence=False)
    assert not present(str(tmp_path / "u.<UDIM>.png"), [1001, 1011], sequence=False)
    assert blender_remap.tile_name("u.<UVTILE>.png", 1012) == "u.u2_v2.png"
    assert present(str(tmp_path / "seq.0001.png"), [], sequence=True)  # another frame is here
    assert not present(str(tmp_path / "seq.0001.png"), [], sequence=False)
    assert not present(str(tmp_path / "none.0001.png"), [], sequence=True)


# --- real renders ---------------------------------------------------------------------------------


def assignment(scene: Path, output: str, env: dict[str, str]) -> TaskAssignment:
    return TaskAssignment(
        task_id=7, job_id=3, attempt=1, frames=[1], dcc="blender", renderer="CYCLES",
        scene=str(scene), output=output, output_format="PNG", env=env, timeout_s=None,
        lease_expires_at=datetime.now(UTC),
    )  # fmt: skip


def compat() -> list[str]:
    return resolve_blender("", which=lambda name: None, has_bpy=True)


def render_with_runner(scene: Path, output: str, env: dict[str, str]) -> tuple[int | None, str]:
    """Renders frame 1 through the runner; returns Blender's exit code and log."""
    render = BlenderRunner(compat()).prepare(assignment(scene, output, env))
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        render.interpret(line)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    log = "\n".join(lines)
    try:
        render.finish(result.exit_code)
    except RenderError as exc:
        log += f"\nRenderError: {exc}"
    finally:
        render.cleanup()
    return result.exit_code, log


def to_workspace(studio: Path, workspace: Path) -> None:
    """Copies the studio tree to the workspace and deletes the studio: nothing is read there."""
    shutil.copytree(studio, workspace)
    shutil.rmtree(studio)


def same_pixels(first: Path, second: Path) -> bool:
    with Image.open(first) as a, Image.open(second) as b:
        return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


@pytest.mark.slow
@needs_bpy
def test_a_workspace_copy_renders_like_the_studio_scene(tmp_path: Path) -> None:
    studio, workspace = tmp_path / "studio", tmp_path / "ws"
    scene = make_studio_scene(studio)
    reference = tmp_path / "reference" / "ref_1.png"
    subprocess.run(
        [*compat(), "-b", str(scene), "-o", str(reference.parent / "ref_#"), "-f", "1"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip

    to_workspace(studio, workspace)
    files = {str(studio / p): str(workspace / p) for p in (TEXTURE, LIBRARY, SHOT)}
    map_file = write_path_map(
        workspace / "map.json",
        PathMap(scene=str(scene), files=files, rules=((str(studio), str(workspace)),)),
    )
    out = tmp_path / "out"
    code, log = render_with_runner(workspace / SHOT, f"{out}/sh010_####", {PATH_MAP_ENV: map_file})

    assert code == 0, log
    assert not studio.exists()
    assert f"remapped library 'props.blend': {studio / LIBRARY} -> {workspace / LIBRARY}" in log
    assert f"remapped image 'checker.png': {studio / TEXTURE} -> {workspace / TEXTURE}" in log
    assert "[cloudburst] remapped 2 path(s)" in log
    assert "RenderError" not in log and "does not exist" not in log
    assert same_pixels(reference, out / "sh010_0001.png")
    # Without the script the same copy renders without its props and texture, and Blender
    # does not fail: the comparison above is what catches that.
    broken = tmp_path / "broken"
    subprocess.run(
        [*compat(), "-b", str(workspace / SHOT), "-o", str(broken / "f_#"), "-f", "1"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    assert not same_pixels(reference, broken / "f_1.png")


@pytest.mark.slow
@needs_bpy
def test_without_the_map_the_missing_files_fail_the_render(tmp_path: Path) -> None:
    studio, workspace = tmp_path / "studio", tmp_path / "ws"
    make_studio_scene(studio)
    to_workspace(studio, workspace)
    out = tmp_path / "out"
    result = subprocess.run(
        [*compat(), "-b", str(workspace / SHOT), "--python-exit-code", "1",
         "--python", REMAP_SCRIPT, "-o", f"{out}/f_#", "-f", "1"],
        capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k != PATH_MAP_ENV},
    )  # fmt: skip

    assert result.returncode == 1, result.stdout + result.stderr
    assert "$CLOUDBURST_PATH_MAP is not set" in result.stdout
    assert f"MISSING library 'props.blend': {studio / LIBRARY} is not on this node" in (
        result.stdout
    )
    assert f"MISSING image 'checker.png': {studio / TEXTURE} is not on this node" in result.stdout
    assert "Error: [cloudburst] 2 file(s) the scene needs are not on this node" in result.stdout
    assert "Rendering frame" not in result.stdout
    assert not out.exists()


@pytest.mark.slow
@needs_bpy
def test_a_file_the_map_lacks_fails_the_task_with_its_name(tmp_path: Path) -> None:
    studio, workspace = tmp_path / "studio", tmp_path / "ws"
    scene = make_studio_scene(studio)
    to_workspace(studio, workspace)
    map_file = write_path_map(  # the texture only: no entry, no rule for the library
        workspace / "map.json",
        PathMap(scene=str(scene), files={str(studio / TEXTURE): str(workspace / TEXTURE)}),
    )
    code, log = render_with_runner(
        workspace / SHOT, f"{tmp_path}/out/f_####", {PATH_MAP_ENV: map_file}
    )

    assert code == 1
    assert "[cloudburst] remapped image 'checker.png'" in log
    assert f"MISSING library 'props.blend': {studio / LIBRARY} is not in the path map" in log
    assert "Rendering frame" not in log
    assert "RenderError: Blender exited with code 1 after writing 0 of 1 frame(s)." in log
    assert "Blender's last error: [cloudburst] 1 file(s) the scene needs" in log


@pytest.mark.slow
@needs_bpy
def test_a_script_exit_ends_cloudburst_blender_before_the_render(tmp_path: Path) -> None:
    result = subprocess.run(
        [*compat(), "--python-expr", "import sys; sys.exit(3)", "-o", f"{tmp_path}/f_#",
         "-f", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Rendering frame" not in result.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@needs_bpy
def test_an_unreadable_path_map_stops_blender(tmp_path: Path) -> None:
    (tmp_path / "map.json").write_text('{"rules": [["/only-one"]]}')
    result = subprocess.run(
        [*compat(), "--python-exit-code", "1", "--python", REMAP_SCRIPT,
         "-o", f"{tmp_path}/f_#", "-f", "1"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, PATH_MAP_ENV: str(tmp_path / "map.json")},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Error: [cloudburst] cannot read the path map {tmp_path / 'map.json'}" in (
        result.stdout
    )
    assert "Rendering frame" not in result.stdout
