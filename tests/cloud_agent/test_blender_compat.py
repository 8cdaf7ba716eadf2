"""``cloudburst-blender``: the command line, output paths, and real renders through bpy."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_agent.blender_compat import (
    LoadScene,
    RelativeFrame,
    RenderAnimation,
    RenderFrames,
    RunPythonExpr,
    RunPythonFile,
    SelectScene,
    SetAutoexec,
    SetEngine,
    SetFormat,
    SetFrameEnd,
    SetFrameStart,
    SetFrameStep,
    SetOutput,
    SetPythonExitCode,
    SetThreads,
    SetUseExtension,
    UsageError,
    expand_output_path,
    format_timecode,
    main,
    parse_args,
    resolve_frames,
)
from cloud_agent.demo_scene import parse_frame_range, parse_resolution
from cloud_agent.runners.blender_log import FrameProgress, FrameSaved, parse_line

REPO = Path(__file__).resolve().parents[2]
HAS_BPY = importlib.util.find_spec("bpy") is not None
needs_bpy = pytest.mark.skipif(
    not HAS_BPY, reason="bpy is not installed (pip install 'cloudburst[blender]')"
)


# --- Command line (pure) ----------------------------------------------------------------------


def test_options_become_actions_in_the_order_given() -> None:
    actions = parse_args(["-b", "shot.blend", "-s", "3", "-e", "5", "-a"])
    assert actions == [
        LoadScene("shot.blend"),
        SetFrameStart(RelativeFrame(3)),
        SetFrameEnd(RelativeFrame(5)),
        RenderAnimation(),
    ]
    # The same options the other way round render first, then set the start.
    assert parse_args(["shot.blend", "-a", "-s", "3"]) == [
        LoadScene("shot.blend"),
        RenderAnimation(),
        SetFrameStart(RelativeFrame(3)),
    ]


def test_every_option_and_its_long_name() -> None:
    short = [
        *("-b", "a.blend", "-S", "Shot", "-o", "//r/f_####", "-F", "OPEN_EXR", "-E", "CYCLES"),
        *("-s", "1", "-e", "9", "-j", "2", "-t", "4", "-x", "0", "-y", "-Y"),
        *("-P", "pre.py", "--python-expr", "x = 1", "--python-exit-code", "3", "-f", "5", "-a"),
    ]
    long = [
        *("--background", "a.blend", "--scene", "Shot", "--render-output", "//r/f_####"),
        *("--render-format", "OPEN_EXR", "--engine", "CYCLES", "--frame-start", "1"),
        *("--frame-end", "9", "--frame-jump", "2", "--threads", "4", "--use-extension", "0"),
        *("--enable-autoexec", "--disable-autoexec", "--python", "pre.py", "--python-expr"),
        *("x = 1", "--python-exit-code", "3", "--render-frame", "5", "--render-anim"),
    ]
    expected = [
        LoadScene("a.blend"),
        SelectScene("Shot"),
        SetOutput("//r/f_####"),
        SetFormat("OPEN_EXR"),
        SetEngine("CYCLES"),
        SetFrameStart(RelativeFrame(1)),
        SetFrameEnd(RelativeFrame(9)),
        SetFrameStep(2),
        SetThreads(4),
        SetUseExtension(False),
        SetAutoexec(True),
        SetAutoexec(False),
        RunPythonFile("pre.py"),
        RunPythonExpr("x = 1"),
        SetPythonExitCode(3),
        RenderFrames(((RelativeFrame(5), RelativeFrame(5)),)),
        RenderAnimation(),
    ]
    assert parse_args(short) == expected
    assert parse_args(long) == expected


def test_arguments_after_double_dash_are_left_to_scripts() -> None:
    assert parse_args(["a.blend", "--", "-a", "--cycles-device", "OPTIX"]) == [LoadScene("a.blend")]


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("PNG", "PNG"),
        ("png", "PNG"),
        ("TGA", "TARGA"),
        ("RAWTGA", "TARGA_RAW"),
        ("JP2", "JPEG2000"),
    ],
)
def test_render_format_names(value: str, name: str) -> None:
    assert parse_args(["-F", value]) == [SetFormat(name)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-b", "a.blend", "--frobnicate"], "unknown option '--frobnicate'"),
        (["-o"], "-o needs a value"),
        (["a.blend", "-F", "GIF"], "unknown format"),
        (["-t", "5000"], "threads"),
        (["-t", "many"], "not a number"),
        (["-x", "yes"], "-x 1 or -x 0"),
        (["-f", "1,,3"], "write frames as"),
        (["-f", "1.."], "write frames as"),
        (["-f", "one"], "not a frame number"),
        (["-s", "1.5"], "not a frame number"),
        (["--python-exit-code", "300"], "[0..255]"),
    ],
)
def test_bad_command_lines_say_what_is_wrong(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_args(argv)
    assert message in caught.value.message


def test_unknown_option_exits_2_with_message_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-b", "scene.blend", "--bogus", "-a"]) == 2
    captured = capsys.readouterr()
    assert "unknown option '--bogus'" in captured.err
    assert captured.out == ""


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "usage: cloudburst-blender" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "start", "end", "frames"),
    [
        ("7", 1, 250, [7]),
        ("1,3,5..7", 1, 250, [1, 3, 5, 6, 7]),
        ("+0", 10, 20, [10]),
        ("+2", 10, 20, [12]),
        ("-1", 10, 20, [20]),  # -N counts back from the end: -1 is the last frame.
        ("-3..-1", 10, 20, [18, 19, 20]),
        ("+0..+2,-1", 10, 20, [10, 11, 12, 20]),
        ("5..3", 1, 10, []),  # A range running backwards is skipped, as Blender does.
        ("2,2", 1, 10, [2, 2]),
    ],
)
def test_render_frame_lists(spec: str, start: int, end: int, frames: list[int]) -> None:
    (action,) = parse_args(["-f", spec])
    assert isinstance(action, RenderFrames)
    assert resolve_frames(action.ranges, start, end) == frames


def test_relative_start_and_end_follow_blender() -> None:
    # -s/-e: +N moves forward from the current value, -N moves back from it.
    assert RelativeFrame(2, "+").resolve(10, 10 - 1) == 12
    assert RelativeFrame(2, "-").resolve(10, 10 - 1) == 8
    assert RelativeFrame(5).resolve(10, 9) == 5
    assert RelativeFrame(5_000_000).resolve(0, 0) == 1_048_574


# --- Output paths (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "frame", "file_format", "use_extension", "expected"),
    [
        ("//render/f_", 7, "PNG", True, "/proj/shots/render/f_0007.png"),
        ("//render/f_####", -3, "PNG", True, "/proj/shots/render/f_-0003.png"),
        ("//render/f_##", 12345, "PNG", True, "/proj/shots/render/f_12345.png"),
        ("/tmp/a##b##/c", 7, "PNG", True, "/tmp/a##b##/c0007.png"),
        ("rel/x_###_y", 7, "PNG", True, "/work/rel/x_007_y.png"),
        ("/tmp/", 7, "PNG", True, "/tmp/0007.png"),
        ("/tmp/x.png", 7, "PNG", True, "/tmp/x.png0007.png"),
        ("/tmp/x#.txt", 7, "PNG", True, "/tmp/x7.txt.png"),
        ("/tmp/x#.txt", 7, "PNG", False, "/tmp/x7.txt"),
        ("/tmp/x_####.jpg", 7, "PNG", True, "/tmp/x_0007.png"),
        ("/tmp/x_####.PNG", 7, "PNG", True, "/tmp/x_0007.PNG"),
        ("/tmp/x_####.heic", 7, "PNG", True, "/tmp/x_0007.heic.png"),
        ("/tmp/x_####.", 7, "PNG", True, "/tmp/x_0007.png"),
        ("/tmp/x_####", 7, "JPEG", True, "/tmp/x_0007.jpg"),
        ("/tmp/x_####.jpeg", 7, "JPEG", True, "/tmp/x_0007.jpeg"),
        ("/tmp/x_####", 7, "TIFF", True, "/tmp/x_0007.tif"),
        ("/tmp/x_####.tga", 7, "OPEN_EXR", True, "/tmp/x_0007.exr"),
        ("/tmp/x_####.sgi", 7, "IRIS", True, "/tmp/x_0007.rgb"),
        ("/tmp/x_####.j2c", 7, "JPEG2000", True, "/tmp/x_0007.jp2"),
        ("/tmp/a/../b/./x_##", 7, "PNG", True, "/tmp/b/x_07.png"),
    ],
)
def test_expand_output_path(
    pattern: str, frame: int, file_format: str, use_extension: bool, expected: str
) -> None:
    # Every expectation was checked against bpy 5.0.1's RenderSettings.frame_path().
    path = expand_output_path(
        pattern,
        frame,
        file_format=file_format,
        use_extension=use_extension,
        blend_path="/proj/shots/sh010.blend",
        cwd="/work",
    )
    assert path == expected


def test_blend_relative_path_of_an_unsaved_file_starts_at_cwd() -> None:
    assert expand_output_path("//r/f_", 1, blend_path=None, cwd="/work") == "/work/r/f_0001.png"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.52, "00:00.52"), (61.234, "01:01.23"), (3725.5, "01:02:05.50"), (-1.0, "00:00.00")],
)
def test_format_timecode(seconds: float, text: str) -> None:
    assert format_timecode(seconds) == text


def test_demo_scene_arguments() -> None:
    assert parse_frame_range("1-24") == (1, 24)
    assert parse_frame_range("5") == (5, 5)
    assert parse_resolution("320x180") == (320, 180)
    with pytest.raises(ValueError, match="backwards"):
        parse_frame_range("10-1")
    with pytest.raises(ValueError, match="320x180"):
        parse_resolution("wide")


# --- Real renders through bpy -----------------------------------------------------------------


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_BPY:
        pytest.skip("bpy is not installed (pip install 'cloudburst[blender]')")
    folder = tmp_path_factory.mktemp("demo")
    scene = folder / "scene.blend"
    result = _run(
        [
            *("-m", "cloud_agent.demo_scene", str(scene)),
            *("--frames", "1-2", "--resolution", "64x36", "--samples", "2"),
        ],
        folder,
    )
    assert result.returncode == 0, result.stderr
    assert scene.is_file()
    return scene


@needs_bpy
def test_renders_two_frames_for_real(demo_blend: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "x"
    result = _run(
        [
            *("-m", "cloud_agent.blender_compat", "-b", str(demo_blend)),
            *("-o", f"{out}/f_####", "-F", "PNG", "-s", "1", "-e", "2", "-a"),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    frames = [out / "f_0001.png", out / "f_0002.png"]
    for frame in frames:
        with Image.open(frame) as image:
            assert image.format == "PNG"
            assert image.size == (64, 36)
    with Image.open(frames[0]) as first, Image.open(frames[1]) as second:
        assert first.tobytes() != second.tobytes()  # The cube moves between the frames.

    lines = result.stdout.splitlines()
    events = [parse_line(line) for line in lines]
    assert [e.path for e in events if isinstance(e, FrameSaved)] == [str(f) for f in frames]
    assert f"Saved: '{frames[0]}'" in lines
    saved_at = lines.index(f"Saved: '{frames[1]}'")
    assert lines[saved_at + 1].startswith(" Time: ")
    assert "(Saving: " in lines[saved_at + 1]
    assert {e.frame for e in events if isinstance(e, FrameProgress) and e.fraction == 1.0} == {
        1,
        2,
    }
    assert lines[-1] == "Blender quit"


@needs_bpy
def test_actions_run_in_order_with_bpy(demo_blend: Path, tmp_path: Path) -> None:
    scene = tmp_path / "shot" / "scene.blend"
    scene.parent.mkdir()
    shutil.copyfile(demo_blend, scene)
    script = "import sys; print('ARGS', sys.argv[sys.argv.index('--') + 1:], flush=True)"
    result = _run(
        [
            *("-m", "cloud_agent.blender_compat", "-b", str(scene), "-o", "//out/f_##"),
            *("-x", "0", "-E", "BLENDER_EEVEE_NEXT", "-E", "BLENDER_WORKBENCH"),
            *("-s", "2", "-a", "-s", "1", "-f", "+0"),
            *("--python-expr", script, "--", "--cycles-device", "CPU"),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = scene.parent / "out"
    saved = [
        e.path for e in map(parse_line, result.stdout.splitlines()) if isinstance(e, FrameSaved)
    ]
    # -a ran with the start moved to 2; then the start went back to 1 and -f +0 rendered it.
    assert saved == [str(out / "f_02"), str(out / "f_01")]
    assert (out / "f_02").is_file() and (out / "f_01").is_file()
    assert "ARGS ['--cycles-device', 'CPU']" in result.stdout.splitlines()


@needs_bpy
def test_our_paths_match_blenders_own(demo_blend: Path, tmp_path: Path) -> None:
    cases = [
        ("//render/f_", "PNG", 7, True),
        ("//render/f_####.jpg", "PNG", -3, True),
        ("/tmp/x_###_y", "JPEG", 12, True),
        ("/tmp/x#.txt", "TIFF", 7, True),
        ("/tmp/x_####.tga", "OPEN_EXR", 7, True),
        ("/tmp/a/../b/x_", "PNG", 7, False),
    ]
    script = (
        "import bpy, json, sys\n"
        f"bpy.ops.wm.open_mainfile(filepath={str(demo_blend)!r})\n"
        "r = bpy.context.scene.render\n"
        "out = []\n"
        f"for pattern, fmt, frame, ext in {cases!r}:\n"
        "    r.filepath, r.image_settings.file_format, r.use_file_extension = pattern, fmt, ext\n"
        "    out.append(r.frame_path(frame=frame))\n"
        "print('PATHS', json.dumps(out))\n"
    )
    result = _run(["-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PATHS "))
    theirs = json.loads(line[len("PATHS ") :])
    ours = [
        expand_output_path(p, frame, file_format=f, use_extension=e, blend_path=str(demo_blend))
        for p, f, frame, e in cases
    ]
    assert ours == theirs


@needs_bpy
def test_missing_scene_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.blend"
    result = _run(["-m", "cloud_agent.blender_compat", "-b", str(missing), "-a"], tmp_path)
    assert result.returncode == 1
    assert f'Error: Cannot read file "{missing}": No such file or directory' in result.stderr
    assert "Saved:" not in result.stdout


@needs_bpy
def test_render_error_exits_1(demo_blend: Path, tmp_path: Path) -> None:
    result = _run(
        [
            *("-m", "cloud_agent.blender_compat", "-b", str(demo_blend)),
            *("--python-expr", "import bpy; bpy.context.scene.camera = None"),
            *("-o", f"{tmp_path}/f_####", "-f", "1"),
        ],
        tmp_path,
    )
    assert result.returncode == 1
    assert "Error: Frame 1: Cannot render, no camera" in result.stderr
    assert not list(tmp_path.glob("f_*"))
