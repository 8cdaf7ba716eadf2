"""The Maya runner: ``Render`` command lines, Maya's log, frames found after the render, and
the agent leaving Maya out when ``Render`` is not installed."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_agent.failure_class import FailureWatch, classify, lines_for
from cloud_agent.process import ManagedProcess
from cloud_agent.runners import get_runner, known_dccs, maya_log
from cloud_agent.runners.batch import (
    BatchRender,
    FileWritten,
    FrameFinished,
    FrameProgress,
    FrameStarted,
    LogError,
)
from cloud_agent.runners.maya import RENDERER_FLAGS, MayaRunner, split_output
from cloud_agent.runners.maya_formats import file_extension
from cloud_agent.runners.path_map_file import PATH_MAP_ENV, PathMap, write_path_map
from common.config import Settings, load_settings
from common.errors import ConfigError, RenderError
from common.jobspec import CAMERA_ENV, TARGET_ENV
from common.models import FailureClass, TaskAssignment
from tests.cloud_agent.runners.fakes import DATA, sections, write_fake


def assignment(frames: list[int], output: str, **fields: object) -> TaskAssignment:
    values: dict[str, object] = dict(
        task_id=3, job_id=1, attempt=1, frames=frames, dcc="maya", renderer="arnold",
        scene="/shows/demo/scenes/shot010.ma", output=output, output_format="exr",
        env={TARGET_ENV: "rs_fg", CAMERA_ENV: "shotCam"}, timeout_s=None,
        lease_expires_at=datetime.now(UTC),
    )  # fmt: skip
    values.update(fields)
    return TaskAssignment(**values)  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Maya project: ``workspace.mel`` at its root, the scene two folders below."""
    root = tmp_path / "proj"
    (root / "scenes" / "shots").mkdir(parents=True)
    (root / "workspace.mel").write_text('workspace -fr "images" "images";\n')
    scene = root / "scenes" / "shots" / "shot010.ma"
    scene.write_text("//Maya ASCII 2024 scene\n")
    return scene


def test_the_command_line_for_arnold(tmp_path: Path, project: Path) -> None:
    # Flags as "Render -r arnold -help" lists them (Arnold for Maya user guide, "Batch Render
    # Flags"): no -fnc nor -of (the driver names the format), -ai:lve for the log's verbosity.
    render = MayaRunner("/opt/maya/bin/Render").prepare(
        assignment([10, 12, 14], f"{tmp_path}/images/shot010.####.exr", scene=str(project))
    )
    assert render.command == [
        "/opt/maya/bin/Render", "-r", "arnold", "-proj", str(project.parents[2]),
        "-s", "10", "-e", "14", "-b", "2", "-rl", "rs_fg", "-cam", "shotCam",
        "-ai:lve", "2", "-rd", f"{tmp_path}/images", "-im", "shot010", "-pad", "4",
        str(project),
    ]  # fmt: skip
    assert (tmp_path / "images").is_dir()


@pytest.mark.parametrize("renderer", ["mayaSoftware", "redshift", "vray", "renderman"])
def test_the_command_line_for_other_renderers(tmp_path: Path, renderer: str) -> None:
    # Maya's common Render flags (Maya Help, "Common flags for the command line renderer"):
    # -proj, -s/-e/-b, -rl, -cam, -rd, -im, -fnc, -pad, -of; a scene outside any project
    # opens in its own folder.
    scene = tmp_path / "loose" / "shot.mb"
    task = assignment([1, 2], f"{tmp_path}/img/shot_##.jpeg", renderer=renderer, scene=str(scene),
                      output_format="jpeg", env={})  # fmt: skip
    flag = RENDERER_FLAGS[renderer]
    assert MayaRunner("Render").prepare(task).command == [
        "Render", "-r", flag, "-proj", str(tmp_path / "loose"), "-s", "1", "-e", "2", "-b", "1",
        "-rd", f"{tmp_path}/img", "-im", "shot", "-fnc", "name_#.ext", "-pad", "2",
        "-of", "jpg", str(scene),
    ]  # fmt: skip


#: The flags ``Render`` takes for every renderer (Autodesk, Maya Help, "Common flags for the
#: command line renderer", the list ``Render -help`` prints).
MAYA_COMMON_FLAGS = {
    "-r", "-proj", "-s", "-e", "-b", "-rd", "-im", "-fnc", "-pad", "-of", "-cam", "-rl",
    "-preRender", "-postRender", "-preLayer", "-postLayer", "-preFrame", "-postFrame",
}  # fmt: skip
#: The flags each renderer's own help lists beside (or instead of) the common ones.
DOCUMENTED_FLAGS = {
    # Arnold for Maya user guide, "Batch Render Flags": the driver names the file format (no
    # -fnc, no -of); -ai:lve is the log's verbosity (2: info, with progress and written files)
    "arnold": (MAYA_COMMON_FLAGS - {"-fnc", "-of"}) | {"-ai:lve"},
    # Redshift for Maya, "Command line rendering": Maya's common flags, and -gpu to pick
    # devices (not passed: the node's Redshift preferences or REDSHIFT_GPUDEVICES choose)
    "redshift": MAYA_COMMON_FLAGS | {"-gpu"},
    # V-Ray for Maya, "Rendering from the command line": Maya's common flags (-cam, -rl,
    # -s/-e/-b, -rd, -im) with V-Ray's own (-threads, -noRender, -exportFileName...)
    "vray": MAYA_COMMON_FLAGS | {"-threads", "-noRender", "-exportFileName"},
    # RenderMan for Maya, "Batch Rendering in Maya": Maya's flags, and "additional flags:
    # -rl, -crop, -preRender, -postRender, -preLayer, -postLayer, -preFrame, -postFrame,
    # -jobid"
    "renderman": MAYA_COMMON_FLAGS | {"-crop", "-jobid"},
    "mayaSoftware": MAYA_COMMON_FLAGS,
}


@pytest.mark.parametrize("renderer", sorted(DOCUMENTED_FLAGS))
def test_each_renderer_is_given_only_flags_its_vendor_documents(
    tmp_path: Path, project: Path, renderer: str
) -> None:
    map_file = write_path_map(tmp_path / "map.json", PathMap(rules=(("/mnt/s", "/ws/s"),)))
    env = {TARGET_ENV: "rs_fg", CAMERA_ENV: "shotCam", PATH_MAP_ENV: map_file}
    task = assignment([1, 3, 5], f"{tmp_path}/images/s.####.exr", renderer=renderer,
                      scene=str(project), env=env)  # fmt: skip
    command = MayaRunner("Render").prepare(task).command
    flags = {arg for arg in command[1:-1] if arg.startswith("-") and not arg[1:].isdigit()}
    assert flags <= DOCUMENTED_FLAGS[renderer], flags - DOCUMENTED_FLAGS[renderer]
    # the chosen layer and camera, the frames and the project reach every renderer
    for flag, value in (("-rl", "rs_fg"), ("-cam", "shotCam"), ("-s", "1"), ("-e", "5"),
                        ("-b", "2"), ("-proj", str(project.parents[2]))):  # fmt: skip
        assert command[command.index(flag) + 1] == value, flag
    assert command[command.index("-r") + 1] == RENDERER_FLAGS[renderer]


@pytest.mark.parametrize(
    ("renderer", "name", "extension"),
    [
        ("arnold", "jpeg", "jpg"), ("arnold", "deepexr", "exr"), ("arnold", "tif", "tif"),
        ("arnold", "png", "png"), ("vray", "exr (multichannel)", "exr"),
        ("vray", "exr (deep)", "exr"), ("vray", "vrimg", "vrimg"),
        ("renderman", "openexr", "exr"), ("renderman", "tiff", "tif"),
        ("redshift", "JPEG", "jpg"), ("mayaSoftware", "iff", "iff"),
    ],
)  # fmt: skip
def test_format_names_become_the_extensions_written(
    renderer: str, name: str, extension: str
) -> None:
    assert file_extension(renderer, name) == extension


@pytest.mark.parametrize(
    ("output", "parts"),
    [
        ("/r/shot_###.tif", ("/r", "shot", "_", 3, "tif")),
        ("/r/shot#.png", ("/r", "shot", "", 1, "png")),
        ("/r/shot-v2-####.exr", ("/r", "shot-v2-", "", 4, "exr")),
        ("/r/shot.####", ("/r", "shot", ".", 4, "exr")),  # the job's format gives the extension
    ],
)
def test_output_patterns_maya_can_write(output: str, parts: tuple[object, ...]) -> None:
    assert split_output(output, "EXR") == parts


@pytest.mark.parametrize("output", ["/r/####.exr", "/r/shot.exr", "/r/shot.####.v2.exr"])
def test_output_patterns_maya_cannot_write(output: str) -> None:
    with pytest.raises(RenderError, match=r"name\.####\.ext"):
        MayaRunner("Render").prepare(assignment([1], output))


def test_the_scene_renderer_and_all_layers_when_none_is_chosen(tmp_path: Path) -> None:
    task = assignment([1], f"{tmp_path}/a.#.iff", renderer="", env={}, output_format="")
    command = MayaRunner("Render").prepare(task).command
    assert command[1:3] == ["-r", "file"] and "-rl" not in command and "-of" not in command


def run(
    render: BatchRender, watch: Callable[[str], None] = lambda line: None
) -> tuple[list[float], list[int], list[str], int | None]:
    progress: list[float] = []
    done: list[int] = []
    errors: list[str] = []

    def on_line(line: str) -> None:
        watch(line)
        report = render.interpret(line)
        if report.progress is not None:
            progress.append(report.progress)
        done.extend(report.frames_done)
        if report.error:
            errors.append(report.error)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    return progress, done, errors, result.exit_code


@pytest.mark.parametrize(
    ("fixture", "renderer"),
    [
        ("maya_software.txt", "mayaSoftware"),
        ("maya_arnold.txt", "arnold"),
        ("maya_redshift.txt", "redshift"),
        ("maya_vray.txt", "vray"),
    ],
)
def test_a_render_with_the_stand_in_render(
    tmp_path: Path, project: Path, fixture: str, renderer: str
) -> None:
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render", fixture)
    output = f"{tmp_path}/images/shot010.####.exr"
    task = assignment([1, 2, 3], output, renderer=renderer, scene=str(project))
    render = MayaRunner(exe).prepare(task)
    progress, done, errors, code = run(render)
    assert code == 0 and errors == []
    assert done == [1, 2, 3] and render.frames_done() == [1, 2, 3]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert any(0 < p < 1 / 3 for p in progress)  # part of the first frame
    outputs = render.finish(code)
    # several layers: Maya writes this one's frames in a folder named after it
    assert outputs == [f"{tmp_path}/images/rs_fg/shot010.{f:04d}.exr" for f in (1, 2, 3)]
    assert render.progress() == 1.0


def test_renderman_progress_starts_over_each_frame(tmp_path: Path, project: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render", "maya_renderman.txt")
    task = assignment([4, 5], f"{tmp_path}/images/s.####.exr", renderer="renderman",
                      scene=str(project))  # fmt: skip
    render = MayaRunner(exe).prepare(task)
    progress, _, errors, code = run(render)
    assert code == 0 and errors == []
    assert progress == sorted(progress) and any(0 < p < 0.5 for p in progress)  # frame 4
    assert any(0.5 < p < 1 for p in progress)  # frame 5 under way
    assert render.finish(code) == [f"{tmp_path}/images/rs_fg/s.{f:04d}.exr" for f in (4, 5)]


def test_arnold_jpeg_frames_are_found_as_jpg(tmp_path: Path, project: Path) -> None:
    # the scene's driver is "jpeg": Arnold writes .jpg, and the task must not miss them
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render", "maya_arnold.txt")
    env = {TARGET_ENV: "rs_fg", "FAKE_MAYA_EXTENSION": "jpg"}
    task = assignment([1, 2], f"{tmp_path}/images/s.####.jpeg", output_format="jpeg",
                      scene=str(project), env=env)  # fmt: skip
    render = MayaRunner(exe).prepare(task)
    _, done, errors, code = run(render)
    assert code == 0 and errors == [] and done == [1, 2]
    assert render.finish(code) == [f"{tmp_path}/images/rs_fg/s.{f:04d}.jpg" for f in (1, 2)]


@pytest.mark.parametrize(
    ("fixture", "renderer", "error", "failure"),
    [
        ("maya_arnold_error.txt", "arnold", "[texturesys] /shows/demo/tex/skin.1001.tx: "
         "file not found", FailureClass.MISSING_FILE),
        ("maya_arnold_licence.txt", "arnold", "aborting render because of failure to checkout "
         "license", FailureClass.LICENCE),
        ("maya_redshift_error.txt", "redshift", "Out of GPU memory: could not allocate 512 MB",
         FailureClass.OUT_OF_MEMORY),
        ("maya_redshift_licence.txt", "redshift", "Unable to acquire a license: no license "
         "available for product redshift", FailureClass.LICENCE),
        ("maya_vray_error.txt", "vray", 'Failed to open file "/shows/demo/tex/brick.1001.exr": '
         "No such file or directory", FailureClass.LICENCE),  # the licence line is the stronger
        ("maya_renderman_error.txt", "renderman", "txmake: cannot open /shows/demo/tex/wall.tex",
         FailureClass.MISSING_FILE),
    ],
)  # fmt: skip
def test_a_failed_render_names_the_renderers_first_error_and_why(
    tmp_path: Path, project: Path, fixture: str, renderer: str, error: str,
    failure: FailureClass,
) -> None:  # fmt: skip
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render", fixture, 211)
    task = assignment([1, 2], f"{tmp_path}/images/s.####.exr", renderer=renderer,
                      scene=str(project))  # fmt: skip
    render = MayaRunner(exe).prepare(task)
    watch = FailureWatch(lines_for("maya"))
    _, done, errors, code = run(render, watch.feed)
    assert code == 211 and done == []
    assert errors[0] == error
    assert classify(watch.strongest(), exit_code=code) is failure
    with pytest.raises(RenderError, match="exited with code 211 after writing 0 of 2"):
        render.finish(code)


def test_a_v_ray_progress_line_is_not_a_new_frame(tmp_path: Path) -> None:
    # V-Ray 5+ prints its progress as "Rendering image...: NN%": read as a frame starting, each
    # one moved the task on to the next frame and its progress never rose.
    render = MayaRunner("Render").prepare(
        assignment([1, 2, 3], f"{tmp_path}/images/s.####.exr", renderer="vray")
    )
    for line in (
        "[2024/Nov/25|10:12:02] V-Ray: Rendering image...",
        "[2024/Nov/25|10:12:03] V-Ray: Rendering image...: 30.0% [ 0h  0m  1.0s] [ 0h  0m 2s est]",
        "[2024/Nov/25|10:12:04] V-Ray: Rendering image...: 90.0% [ 0h  0m  2.0s] [ 0h  0m 1s est]",
        "[2024/Nov/25|10:12:04] V-Ray: Rendering image...: done [ 0h  0m  2.4s]",
    ):
        render.interpret(line)
    assert render.progress() == pytest.approx(0.9 / 3)


def test_a_scene_outside_a_project_opens_in_its_folder(tmp_path: Path) -> None:
    scene = tmp_path / "loose" / "shot.ma"
    scene.parent.mkdir()
    scene.write_text("//Maya ASCII 2024 scene\n")
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render", "maya_software.txt")
    render = MayaRunner(exe).prepare(
        assignment([1], f"{tmp_path}/images/s.####.exr", scene=str(scene))
    )
    assert render.command[render.command.index("-proj") + 1] == str(scene.parent)
    _, done, errors, code = run(render)
    assert code == 0 and errors == [] and done == [1]


def test_frames_missing_after_a_clean_exit_are_an_error(tmp_path: Path, project: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render", "maya_software.txt")
    task = assignment([1, 2], f"{tmp_path}/images/s.####.exr", scene=str(project))
    run(MayaRunner(exe).prepare(task))
    (tmp_path / "images" / "rs_fg" / "s.0002.exr").unlink()
    render = MayaRunner(exe).prepare(task)
    with pytest.raises(RenderError, match=r"wrote no file for frame\(s\) 2 \(1 of 2\)"):
        render.finish(0)


def test_the_log_parser_on_recorded_lines() -> None:
    lines = [line.format(frame=7, index=1, count=1, image="/i/s.0007.exr")
             for name in ("maya_software.txt", "maya_arnold.txt", "maya_redshift.txt",
                          "maya_vray.txt", "maya_renderman.txt")
             for line in sections(str(DATA / name))["frame"] if line != "@write"]  # fmt: skip
    events = [e for e in map(maya_log.parse_line, lines) if e is not None]
    assert events.count(FrameStarted(7)) == 3 and FrameStarted() in events  # mtoa, rs, rfm
    assert FrameProgress(0.35) in events and FrameProgress(0.75) in events
    assert FrameProgress(0.3) in events and FrameProgress(0.4) in events  # V-Ray, prman
    assert events.count(FileWritten("/i/s.0007.exr")) == 4
    assert not any(isinstance(e, LogError) for e in events)
    assert maya_log.parse_line("// Error: Cannot open /x.ma //") == LogError("Cannot open /x.ma")
    assert maya_log.parse_line("Result: /shows/demo/scenes/shot010.ma") is None


@pytest.mark.parametrize(
    ("line", "event"),
    [
        ("INFO : [Redshift] Rendering frame 12...", FrameStarted(12)),
        ("INFO : [Redshift] Block 3/12 (2,0) rendered by GPU 0 in 9ms", FrameProgress(0.25)),
        ("ERROR : [Redshift] License not found", LogError("License not found")),
        ("Rendering was internally aborted", LogError("Rendering was internally aborted")),
        ("[2024/Nov/25|10:12:02] V-Ray: Rendering image...", FrameStarted()),
        ("V-Ray: 55 % completed", FrameProgress(0.55)),
        (
            "[2024/Nov/25|10:12:03] V-Ray: Rendering image...: 45.5% [ 0h  0m  1.0s] [ 0h  0m  "
            "1.2s est]",
            FrameProgress(0.455),
        ),
        ("[2024/Nov/25|10:12:04] V-Ray: Rendering image...: done [ 0h  0m  2.4s]", None),
        (
            '[2024/Nov/25|10:12:04] error: Cannot create output image file "/r/a.exr"',
            LogError('Cannot create output image file "/r/a.exr"'),
        ),
        ("[2024/Nov/25|10:12:04] warning: 1 bitmap(s) could not be loaded", None),
        ("R90000 {INFO} 37%", FrameProgress(0.37)),
        ("[2024/Nov/25|10:12:04] V-Ray: Total frame time 0h 0m 2.4s", FrameFinished()),
        ("V-Ray error: Could not obtain a license", LogError("Could not obtain a license")),
        ("rfm Notice: Rendering perspShape at -3", FrameStarted(-3)),
        ("R90000  62%", FrameProgress(0.62)),
        ("X00001 {SEVERE} license expired", LogError("license expired")),
        ("[mtoa] Failed batch render", LogError("[mtoa] Failed batch render")),
        ("INFO : [Redshift] Scene translation time: 0.01s", None),
        ("R90005 {INFO} rendering at 1920x1080", None),
    ],
)
def test_renderer_lines(line: str, event: object) -> None:
    assert maya_log.parse_line(line) == event


def test_render_is_found_from_the_environment_or_path(tmp_path: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render")
    runner = MayaRunner.from_settings(load_settings(env={"CLOUDBURST_MAYA_RENDER": exe}))
    assert runner.executable == exe
    on_path = MayaRunner.from_settings(Settings(), which=lambda name: f"/usr/bin/{name}")
    assert on_path.executable == "/usr/bin/Render"
    with pytest.raises(ConfigError, match="CLOUDBURST_MAYA_RENDER"):
        MayaRunner.from_settings(Settings(), which=lambda name: None)


def test_the_agent_renders_maya_only_where_render_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert {"maya", "houdini", "nuke", "blender"} <= set(known_dccs())
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render")
    monkeypatch.setenv("CLOUDBURST_MAYA_RENDER", exe)
    assert isinstance(get_runner("maya"), MayaRunner)
    monkeypatch.setenv("CLOUDBURST_MAYA_RENDER", str(tmp_path / "nowhere" / "Render"))
    with pytest.raises(ConfigError, match="not on this node"):
        get_runner("maya")


# --- path maps --------------------------------------------------------------------------------


def test_a_path_map_becomes_dirmap_mappings_before_the_render(tmp_path: Path) -> None:
    ws = f"{tmp_path}/ws"
    map_file = write_path_map(tmp_path / "map.json", PathMap(rules=(
        ("/mnt/studio", f"{ws}/studio"), ("P:\\", f"{ws}/studio"),
        ("/mnt/studio/show/lib", f"{ws}/libs"), ('/mnt/odd "name"\\x', f"{ws}/odd"),
    )))  # fmt: skip
    task = assignment([1], f"{tmp_path}/images/shot010.####.exr",
                      env={TARGET_ENV: "rs_fg", PATH_MAP_ENV: map_file})  # fmt: skip
    command = MayaRunner("/opt/maya/bin/Render").prepare(task).command
    index = command.index("-preRender")
    assert command[index + 1] == (
        "dirmap -en true;"
        f' dirmap -m "/mnt/studio/show/lib" "{ws}/libs";'
        f' dirmap -m "/mnt/odd \\"name\\"/x" "{ws}/odd";'
        f' dirmap -m "/mnt/studio" "{ws}/studio";'
        f' dirmap -m "P:/" "{ws}/studio";'
    )
    assert index < command.index("-rd") and command[-1] == "/shows/demo/scenes/shot010.ma"


def test_the_stand_in_render_takes_the_pre_render_flag(tmp_path: Path, project: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Render", "fake_maya_render", "maya_software.txt")
    map_file = write_path_map(tmp_path / "map.json", PathMap(rules=(("/mnt/s", "/ws/s"),)))
    task = assignment([1], f"{tmp_path}/images/s.####.exr", scene=str(project),
                      env={TARGET_ENV: "rs_fg", PATH_MAP_ENV: map_file})  # fmt: skip
    render = MayaRunner(exe).prepare(task)
    _, done, errors, code = run(render)
    assert code == 0 and errors == [] and done == [1]


@pytest.mark.parametrize("rules", [(), None])
def test_no_rules_no_dirmap(tmp_path: Path, rules: tuple[tuple[str, str], ...] | None) -> None:
    env = {TARGET_ENV: "rs_fg"}
    if rules is not None:
        env[PATH_MAP_ENV] = write_path_map(tmp_path / "map.json", PathMap(rules=rules))
    task = assignment([1], f"{tmp_path}/images/s.####.exr", env=env)
    assert "-preRender" not in MayaRunner("Render").prepare(task).command


def test_an_unreadable_path_map_is_a_render_error(tmp_path: Path) -> None:
    (tmp_path / "map.json").write_text("{nope")
    task = assignment([1], f"{tmp_path}/images/s.####.exr",
                      env={PATH_MAP_ENV: str(tmp_path / "map.json")})  # fmt: skip
    with pytest.raises(RenderError, match="not valid JSON"):
        MayaRunner("Render").prepare(task)
