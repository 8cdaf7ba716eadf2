"""The Blender runner: command lines, Blender's output names, and frames moved into place."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_agent.blender_compat import (
    LoadScene,
    RunPythonFile,
    SetFormat,
    SetOutput,
    SetPythonExitCode,
    parse_args,
)
from cloud_agent.process import ManagedProcess
from cloud_agent.runners import get_runner, known_dccs
from cloud_agent.runners.base import frame_run
from cloud_agent.runners.blender import (
    REMAP_SCRIPT,
    STAGING_DIR_NAME,
    BlenderRunner,
    BlenderTaskRender,
    absolute_output,
    expand_output,
    format_extensions,
    remove_earlier_attempts,
    resolve_blender,
)
from cloud_agent.runners.path_map_file import PATH_MAP_ENV
from common.config import Settings
from common.errors import ConfigError, RenderError
from common.frames import chunk_frames, parse_frames
from common.models import TaskAssignment

EXE = ["/opt/blender/blender"]


def assignment(
    frames: list[int],
    output: str,
    *,
    fmt: str = "PNG",
    scene: str = "/shows/demo/shot010.blend",
    task_id: int = 12,
    attempt: int = 1,
    env: dict[str, str] | None = None,
) -> TaskAssignment:
    return TaskAssignment(
        task_id=task_id, job_id=4, attempt=attempt, frames=frames, dcc="blender",
        renderer="CYCLES", scene=scene, output=output, output_format=fmt,
        env={"OCIO": "/c"} if env is None else env,
        timeout_s=None, lease_expires_at=datetime.now(UTC),
    )  # fmt: skip


def prepare(frames: list[int], output: str, **kwargs: object) -> BlenderTaskRender:
    return BlenderRunner(EXE).prepare(assignment(frames, output, **kwargs))  # type: ignore[arg-type]


# --- command lines ----------------------------------------------------------------------------


def test_command_for_a_single_frame(tmp_path: Path) -> None:
    render = prepare([1], f"{tmp_path}/out/f_####")
    staging = f"{tmp_path}/out/{STAGING_DIR_NAME}/12-1"
    assert render.command == [
        *EXE, "-b", "/shows/demo/shot010.blend", "-o", f"{staging}/f_####", "-F", "PNG",
        "-s", "1", "-e", "1", "-a",
    ]  # fmt: skip
    assert os.path.isdir(staging)
    assert render.env == {"PYTHONUNBUFFERED": "1", "OCIO": "/c"}


def test_command_for_a_chunk_of_four(tmp_path: Path) -> None:
    render = prepare([5, 6, 7, 8], f"{tmp_path}/f_####.exr", fmt="open_exr", attempt=3)
    assert render.command[3:] == [
        "-o", f"{tmp_path}/{STAGING_DIR_NAME}/12-3/f_####.exr", "-F", "OPEN_EXR",
        "-s", "5", "-e", "8", "-a",
    ]  # fmt: skip


def test_command_for_a_stepped_chunk(tmp_path: Path) -> None:
    chunks = chunk_frames(parse_frames("1-100x5"), 10)
    assert chunks[1] == [51, 56, 61, 66, 71, 76, 81, 86, 91, 96]
    render = prepare(chunks[1], f"{tmp_path}/f_####", fmt="")
    assert render.command[3:] == [
        "-o", f"{tmp_path}/{STAGING_DIR_NAME}/12-1/f_####",
        "-s", "51", "-e", "96", "-j", "5", "-a",
    ]  # fmt: skip


def test_a_path_map_runs_the_remap_script_right_after_the_scene_loads(tmp_path: Path) -> None:
    env = {PATH_MAP_ENV: "/ws/job4/cloudburst-path-map.json", "OCIO": "/c"}
    render = prepare([3, 4], f"{tmp_path}/f_####", env=env)
    staging = f"{tmp_path}/{STAGING_DIR_NAME}/12-1"
    assert render.command == [
        *EXE, "-b", "/shows/demo/shot010.blend",
        "--python-exit-code", "1", "--python", REMAP_SCRIPT,
        "-o", f"{staging}/f_####", "-F", "PNG", "-s", "3", "-e", "4", "-a",
    ]  # fmt: skip
    assert render.env == {"PYTHONUNBUFFERED": "1", **env}  # the script finds the map there
    assert os.path.isfile(REMAP_SCRIPT)
    # cloudburst-blender runs the options in order: the script before the output and frames.
    assert parse_args(render.command[1:])[:5] == [
        LoadScene("/shows/demo/shot010.blend"),
        SetPythonExitCode(1),
        RunPythonFile(REMAP_SCRIPT),
        SetOutput(f"{staging}/f_####"),
        SetFormat("PNG"),
    ]
    assert "--python" not in prepare([3], f"{tmp_path}/f_####", env={}).command


def test_blend_relative_output_starts_at_the_scene_folder(tmp_path: Path) -> None:
    scene = tmp_path / "shot" / "s.blend"
    render = prepare([2], "//render/f_##", scene=str(scene))
    assert render.final_dir == str(tmp_path / "shot" / "render")
    assert render.command[4] == f"{tmp_path}/shot/render/{STAGING_DIR_NAME}/12-1/f_##"


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        ([], "no frames"),
        ([1, 2, 4], "evenly stepped"),
        ([3, 1], "evenly stepped"),
        ([-2, -1], "negative frames"),
    ],
)
def test_frames_blender_cannot_take_are_refused(
    tmp_path: Path, frames: list[int], problem: str
) -> None:
    with pytest.raises(RenderError, match=problem):
        prepare(frames, f"{tmp_path}/f_####")


@pytest.mark.parametrize(
    ("fmt", "problem"), [("FFMPEG", "movie"), ("GIFF", "does not know the output format")]
)
def test_unusable_formats_are_refused(tmp_path: Path, fmt: str, problem: str) -> None:
    with pytest.raises(RenderError, match=problem):
        prepare([1], f"{tmp_path}/f_####", fmt=fmt)


def test_frame_run() -> None:
    assert frame_run([7]) == (7, 7, 1)
    assert frame_run([1, 3, 5]) == (1, 5, 2)


# --- the executable ---------------------------------------------------------------------------


def test_the_blender_setting_wins(tmp_path: Path) -> None:
    found = {"/usr/local/blender-4.2/blender": "/usr/local/blender-4.2/blender"}
    assert resolve_blender("/usr/local/blender-4.2/blender", which=found.get) == [
        "/usr/local/blender-4.2/blender"
    ]


def test_a_missing_blender_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_blender("/nowhere/blender", which=lambda name: None)


def test_blender_on_path_comes_next(tmp_path: Path) -> None:
    assert resolve_blender("", which={"blender": "/usr/bin/blender"}.get) == ["/usr/bin/blender"]


def test_then_the_compat_script_next_to_python(tmp_path: Path) -> None:
    python = tmp_path / "venv" / "bin" / "python"
    script = python.parent / "cloudburst-blender"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    got = resolve_blender("", which=lambda name: None, python=str(python), has_bpy=True)
    assert got == [str(script)]


def test_then_the_compat_module(tmp_path: Path) -> None:
    python = str(tmp_path / "python")
    got = resolve_blender("", which=lambda name: None, python=python, has_bpy=True)
    assert got == [python, "-m", "cloud_agent.blender_compat"]


def test_no_blender_and_no_bpy_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No Blender on this node"):
        resolve_blender("", which=lambda name: None, python=str(tmp_path / "py"), has_bpy=False)


def test_registry_knows_blender_and_names_it_for_unknown_dccs() -> None:
    assert "blender" in known_dccs()
    runner = get_runner("blender", Settings(blender=sys.executable))
    assert isinstance(runner, BlenderRunner)
    assert runner.executable == [sys.executable]
    with pytest.raises(RenderError, match=r"no runner for 'katana'.*blender"):
        get_runner("katana")


# --- output names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "frame", "fmt", "expected"),
    [
        ("/r/f_####", 1, "PNG", "/r/f_0001.png"),
        ("/r/f_", 12, "PNG", "/r/f_0012.png"),
        ("/r/f_##.png", 5, "PNG", "/r/f_05.png"),
        ("/r/f_#.exr", 5, "PNG", "/r/f_5.png"),
        ("/r/f_####.JPEG", 3, "JPEG", "/r/f_0003.JPEG"),
        ("/r/shot.v01.####", 7, "OPEN_EXR", "/r/shot.v01.0007.exr"),
        ("/r/a##b##", 3, "TIFF", "/r/a##b03.tif"),
        ("/r/#/x", 2, "", "/r/#/x0002"),
        ("/r/", 1, "JPEG", "/r/0001.jpg"),
        ("/r/f_##", 12345, "PNG", "/r/f_12345.png"),
        ("/r/f_####.png", 9, "", "/r/f_0009.png"),
    ],
)
def test_expand_output_follows_blender(pattern: str, frame: int, fmt: str, expected: str) -> None:
    assert expand_output(pattern, frame, format_extensions(fmt)) == expected


def test_absolute_output_keeps_a_trailing_slash(tmp_path: Path) -> None:
    assert absolute_output("//frames/", "/p/shot.blend") == "/p/frames/"
    assert absolute_output("/r/../r/f_#", "/p/shot.blend") == "/r/f_#"


# --- staging, Saved lines, and missing frames -------------------------------------------------


def stage(render: BlenderTaskRender, frame: int, data: bytes = b"png") -> str:
    """Writes a frame into the staging folder as Blender would; returns its path."""
    path = expand_output(render.staging_pattern, frame, render.extensions)
    Path(path).write_bytes(data)
    return path


def test_saved_lines_move_frames_into_place(tmp_path: Path) -> None:
    render = prepare([5, 6, 7, 8], f"{tmp_path}/out/f_####")
    staged = stage(render, 5, b"frame five")
    final = tmp_path / "out" / "f_0005.png"
    progress: list[float] = []
    for line in [
        "00:00.100  render           | Fra: 5 | Remaining: 00:01.00 | Mem: 2M | Sample 1/4",
        "00:00.200  render           | Fra: 5 | Remaining: 00:00.50 | Mem: 2M | Sample 2/4",
    ]:
        report = render.interpret(line)
        assert report.frames_done == ()
        assert report.progress is not None
        progress.append(report.progress)
    assert not final.exists(), "a frame must not appear before Blender has saved it"
    report = render.interpret(f"00:00.300  render           | Saved: '{staged}'")
    assert report.frames_done == (5,)
    assert final.read_bytes() == b"frame five"
    assert not os.path.exists(staged)
    assert report.progress is not None
    assert report.progress == pytest.approx(0.25)
    progress.append(report.progress)
    report = render.interpret("Fra: 6 | Mem: 2M | Sample 2/4")  # cloudburst-blender's style
    assert report.progress is not None
    assert report.progress == pytest.approx(0.375)
    progress.append(report.progress)
    assert progress == sorted(progress)
    assert progress[0] == pytest.approx(0.25 * 0.25)
    assert render.frames_done() == [5]
    for frame in (6, 7, 8):
        render.interpret(f"Saved: '{stage(render, frame)}'")
        render.interpret(" Time: 00:00.52 (Saving: 00:00.01)")
    assert render.progress() == 1.0
    outputs = render.finish(0)
    assert outputs == [str(tmp_path / "out" / f"f_{f:04d}.png") for f in (5, 6, 7, 8)]
    render.cleanup()
    assert not (tmp_path / "out" / STAGING_DIR_NAME).exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "f_0005.png", "f_0006.png", "f_0007.png", "f_0008.png",
    ]  # fmt: skip


def test_a_killed_render_leaves_no_partial_frame(tmp_path: Path) -> None:
    render = prepare([1, 2], f"{tmp_path}/f_####")
    render.interpret(f"Saved: '{stage(render, 1)}'")
    stage(render, 2, b"half a fr")  # being written when the render was killed
    with pytest.raises(RenderError, match=r"exited with code -9 after writing 1 of 2"):
        render.finish(-9)
    render.cleanup()
    assert (tmp_path / "f_0001.png").exists()
    assert not (tmp_path / "f_0002.png").exists()
    assert not (tmp_path / STAGING_DIR_NAME).exists()


def test_missing_frames_are_detected(tmp_path: Path) -> None:
    render = prepare([5, 6, 7, 8], f"{tmp_path}/f_####")
    for frame in (5, 6):
        render.interpret(f"Saved: '{stage(render, frame)}'")
    render.interpret("Error: Cannot read file '/tex/wood.png': No such file or directory")
    with pytest.raises(RenderError) as caught:
        render.finish(0)
    message = str(caught.value)
    assert "frame(s) 7-8 (2 of 4)" in message
    assert "wood.png" in message
    assert not (tmp_path / "f_0007.png").exists()


def test_a_final_file_deleted_after_its_move_counts_as_missing(tmp_path: Path) -> None:
    render = prepare([1], f"{tmp_path}/f_####")
    render.interpret(f"Saved: '{stage(render, 1)}'")
    (tmp_path / "f_0001.png").unlink()
    with pytest.raises(RenderError, match="frame"):
        render.finish(0)


def test_frames_written_without_saved_lines_are_kept_after_a_clean_exit(tmp_path: Path) -> None:
    render = prepare([3, 4], f"{tmp_path}/f_####", fmt="")  # the scene's format: unknown here
    Path(render.staging_dir, "f_0003.exr").write_bytes(b"3")
    Path(render.staging_dir, "f_0004.exr").write_bytes(b"4")
    assert render.finish(0) == [str(tmp_path / "f_0003.exr"), str(tmp_path / "f_0004.exr")]


def test_saved_lines_outside_the_staging_folder_are_ignored(tmp_path: Path) -> None:
    render = prepare([1], f"{tmp_path}/f_####")
    elsewhere = tmp_path / "comp" / "f_0001.png"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"x")
    assert render.interpret(f"Saved: '{elsewhere}'").frames_done == ()
    assert elsewhere.exists()


def test_a_stale_staging_folder_of_the_same_attempt_is_cleared(tmp_path: Path) -> None:
    first = prepare([1], f"{tmp_path}/f_####")
    stage(first, 1, b"left by a crashed agent")
    again = prepare([1], f"{tmp_path}/f_####")
    assert os.listdir(again.staging_dir) == []


def test_staging_left_by_earlier_attempts_of_the_task_is_removed(tmp_path: Path) -> None:
    killed = [prepare([1], f"{tmp_path}/f_####", attempt=n) for n in (2, 1)]  # 1 spares 2
    for render in killed:  # their agents were SIGKILLed: no cleanup()
        stage(render, 1, b"half a fr")
    others = [
        prepare([1], f"{tmp_path}/f_####", task_id=120, attempt=1),  # 12- is not its prefix
        prepare([1], f"{tmp_path}/f_####", task_id=7, attempt=1),
    ]
    Path(tmp_path, STAGING_DIR_NAME, "12-notes").mkdir()  # not an attempt folder

    render = prepare([1], f"{tmp_path}/f_####", attempt=3)

    assert sorted(os.listdir(tmp_path / STAGING_DIR_NAME)) == ["12-3", "12-notes", "120-1", "7-1"]
    assert all(os.path.isdir(other.staging_dir) for other in others)
    assert os.listdir(render.staging_dir) == []


def test_a_later_attempt_of_the_task_is_left_alone(tmp_path: Path) -> None:
    newer = prepare([1], f"{tmp_path}/f_####", attempt=4)  # the daemon gave the task on again
    stage(newer, 1)
    stale = prepare([1], f"{tmp_path}/f_####", attempt=3)
    assert os.listdir(newer.staging_dir) == ["f_0001.png"]
    stale.cleanup()
    assert os.path.isdir(newer.staging_dir)


def test_the_staging_parent_goes_once_the_stale_attempts_are_removed(tmp_path: Path) -> None:
    for attempt in (2, 1):
        stage(prepare([1, 2], f"{tmp_path}/f_####", attempt=attempt), 2, b"half a fr")
    root = tmp_path / STAGING_DIR_NAME

    removed = remove_earlier_attempts(str(root), 12, 3)

    assert removed == [str(root / "12-1"), str(root / "12-2")]
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []
    assert remove_earlier_attempts(str(root), 12, 3) == []  # nothing there: nothing to do
    render = prepare([1, 2], f"{tmp_path}/f_####", attempt=3)
    render.cleanup()
    assert not root.exists()


# --- a real render through bpy ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")
def test_real_render_through_cloudburst_blender(tmp_path: Path) -> None:
    scene = tmp_path / "scene.blend"
    subprocess.run(
        [sys.executable, "-m", "cloud_agent.demo_scene", str(scene), "--frames", "1-3",
         "--resolution", "64x36", "--samples", "2"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    runner = BlenderRunner(resolve_blender("", which=lambda name: None, has_bpy=True))
    render = runner.prepare(assignment([2, 3], "//render/frame_####", scene=str(scene)))
    lines: list[str] = []
    done: list[int] = []

    def on_line(line: str) -> None:
        lines.append(line)
        done.extend(render.interpret(line).frames_done)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    assert result.exit_code == 0, "\n".join(lines[-30:])
    assert done == [2, 3]
    outputs = render.finish(result.exit_code)
    render.cleanup()
    assert outputs == [str(tmp_path / "render" / f"frame_{f:04d}.png") for f in (2, 3)]
    for path in outputs:
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path / "render")) == ["frame_0002.png", "frame_0003.png"]
