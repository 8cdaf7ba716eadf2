"""The Nuke runner: ``nuke -x`` command lines, Nuke's log, frames of every view found after the
render (run here by a stand-in ``nuke`` that reads the script for the Write's file)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_agent.failure_class import FailureWatch, classify, lines_for
from cloud_agent.process import ManagedProcess
from cloud_agent.runners import nuke_log
from cloud_agent.runners.batch import BatchRender, FileWritten, FrameStarted, LogError
from cloud_agent.runners.nuke import NukeRunner, frame_range, installed_nukes
from common.config import Settings, load_settings
from common.errors import ConfigError, RenderError
from common.jobspec import TARGET_ENV
from common.models import FailureClass, TaskAssignment
from tests.cloud_agent.runners.fakes import write_fake

SCRIPT = """Root {
 inputs 0
 first_frame 1
 last_frame 20
 views {{left ""} {right ""}}
}
ColorBars {
 inputs 0
 name Bars
}
Write {
 file render/comp.%V.####.exr
 file_type exr
 name Out
}
Write {
 file render/preview.%04d.jpg
 views main
 name Preview
}
"""


def assignment(frames: list[int], scene: Path, output: str, write: str = "Out") -> TaskAssignment:
    return TaskAssignment(
        task_id=9, job_id=3, attempt=1, frames=frames, dcc="nuke", renderer="nuke",
        scene=str(scene), output=output, output_format="exr",
        env={TARGET_ENV: write} if write else {}, timeout_s=None,
        lease_expires_at=datetime.now(UTC),
    )  # fmt: skip


@pytest.fixture
def comp(tmp_path: Path) -> Path:
    script = tmp_path / "comp" / "comp.nk"
    script.parent.mkdir()
    script.write_text(SCRIPT)
    return script


def run(
    render: BatchRender, watch: Callable[[str], None] = lambda line: None
) -> tuple[list[int], list[str], int | None]:
    done: list[int] = []
    errors: list[str] = []

    def on_line(line: str) -> None:
        watch(line)
        report = render.interpret(line)
        done.extend(report.frames_done)
        if report.error:
            errors.append(report.error)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    return done, errors, result.exit_code


@pytest.mark.parametrize(
    ("frames", "spec"), [([7], "7"), ([1, 2, 3], "1-3"), ([2, 4, 6], "2-6x2"), ([-2, -1], "-2--1")]
)
def test_frame_ranges(frames: list[int], spec: str) -> None:
    assert frame_range(frames) == spec


def test_the_command_line(comp: Path) -> None:
    render = NukeRunner("/opt/nuke/Nuke14.0").prepare(
        assignment([1, 3, 5], comp, f"{comp.parent}/render/comp.%V.####.exr")
    )
    # Nuke's command-line flags (Foundry's Nuke guide, "Command Line Operations"): -x renders
    # the script's Writes, -f at full resolution (not the proxy the script may be saved in),
    # -V 2 prints each frame, -F the frames (first-lastxstep), -X the one Write
    assert render.command == [
        "/opt/nuke/Nuke14.0", "-x", "-f", "-V", "2", "-F", "1-5x2", "-X", "Out", str(comp)
    ]  # fmt: skip
    every_write = NukeRunner("Nuke").prepare(assignment([1], comp, "/tmp/x.####.exr", write=""))
    assert "-X" not in every_write.command


def test_an_interactive_licence_is_the_nodes_setting(comp: Path, tmp_path: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Nuke15.1", "fake_nuke", "nuke_x.txt")
    settings = load_settings(env={"CLOUDBURST_NUKE": exe, "CLOUDBURST_NUKE_INTERACTIVE": "1"})
    runner = NukeRunner.from_settings(settings)
    render = runner.prepare(assignment([1], comp, f"{comp.parent}/render/comp.%V.####.exr"))
    assert render.command[:6] == [exe, "-x", "-i", "-f", "-V", "2"]
    done, errors, code = run(render)  # the stand-in takes the flag like Nuke
    assert code == 0 and errors == [] and done == [1]
    assert (
        "-i"
        not in NukeRunner.from_settings(load_settings(env={"CLOUDBURST_NUKE": exe}))
        .prepare(assignment([1], comp, f"{comp.parent}/render/comp.%V.####.exr"))
        .command
    )


def make_nuke(folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return str(program)


def test_the_newest_installed_nuke_is_found(tmp_path: Path) -> None:
    on_path = make_nuke(tmp_path / "bin", "Nuke13.2")
    make_nuke(tmp_path / "bin", "Nuke")  # a wrapper: not a version
    (tmp_path / "bin" / "Nuke16.0").write_text("not executable")
    older = make_nuke(tmp_path / "usr_local" / "Nuke15.1v2", "Nuke15.1")
    newest = make_nuke(tmp_path / "usr_local" / "Nuke15.1v5", "Nuke15.1")
    make_nuke(tmp_path / "usr_local" / "Nuke15.1v5", "Nuke15.1.so")  # not a program
    found = installed_nukes(str(tmp_path / "bin"), [str(tmp_path / "usr_local" / "Nuke*")])
    assert found == [newest, older, on_path]
    runner = NukeRunner.from_settings(
        Settings(), search_path=str(tmp_path / "bin"),
        install_globs=[str(tmp_path / "usr_local" / "Nuke*")],
    )  # fmt: skip
    assert runner.executable == newest


def test_the_setting_wins_over_installed_nukes(tmp_path: Path) -> None:
    make_nuke(tmp_path / "opt" / "Nuke16.0v1", "Nuke16.0")
    chosen = make_nuke(tmp_path / "bin", "Nuke14.0")
    runner = NukeRunner.from_settings(
        load_settings(env={"CLOUDBURST_NUKE": chosen}), search_path="",
        install_globs=[str(tmp_path / "opt" / "Nuke*")],
    )  # fmt: skip
    assert runner.executable == chosen


def test_a_windows_install_is_found(tmp_path: Path) -> None:
    program = make_nuke(tmp_path / "Program Files" / "Nuke14.0v5", "Nuke14.0.exe")
    assert installed_nukes("", [str(tmp_path / "Program Files" / "Nuke*")]) == [program]


def test_a_render_of_both_views(comp: Path, tmp_path: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Nuke", "fake_nuke", "nuke_x.txt")
    output = f"{comp.parent}/render/comp.%V.####.exr"
    render = NukeRunner(exe).prepare(assignment([1, 2], comp, output))
    done, errors, code = run(render)
    assert code == 0 and errors == [] and done == [1, 2]
    assert render.finish(code) == [
        f"{comp.parent}/render/comp.{view}.{frame:04d}.exr"
        for frame in (1, 2)
        for view in ("left", "right")
    ]


def test_a_write_with_one_view_and_printf_padding(comp: Path, tmp_path: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Nuke", "fake_nuke", "nuke_x.txt")
    render = NukeRunner(exe).prepare(
        assignment([3], comp, f"{comp.parent}/render/preview.%04d.jpg", write="Preview")
    )
    done, _, code = run(render)
    assert done == [3] and render.finish(code) == [f"{comp.parent}/render/preview.0003.jpg"]


def test_a_missing_plate_fails_with_nukes_error(comp: Path, tmp_path: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Nuke", "fake_nuke", "nuke_error.txt", exit_code=1)
    render = NukeRunner(exe).prepare(assignment([1], comp, f"{comp.parent}/render/c.%V.####.exr"))
    done, errors, code = run(render)
    assert code == 1 and done == []
    assert errors == ["Read1: /shows/demo/plates/bg.1.exr: No such file or directory"]
    with pytest.raises(RenderError, match=r"Nuke exited with code 1.*No such file"):
        render.finish(code)


def test_no_licence_is_named_and_classed(comp: Path, tmp_path: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Nuke", "fake_nuke", "nuke_licence.txt", exit_code=1)
    render = NukeRunner(exe).prepare(assignment([1], comp, f"{comp.parent}/render/c.%V.####.exr"))
    watch = FailureWatch(lines_for("nuke"))
    done, errors, code = run(render, watch.feed)
    assert code == 1 and done == []
    assert errors == ["Foundry licensing error: No licenses available for product nuke_r"]
    assert classify(watch.strongest(), exit_code=code) is FailureClass.LICENCE
    with pytest.raises(RenderError, match=r"Nuke exited with code 1.*No licenses available"):
        render.finish(code)


def test_the_log_parser() -> None:
    assert nuke_log.parse_line("Writing /r/c.0001.exr took 0.41 seconds") == FileWritten(
        "/r/c.0001.exr"
    )
    assert nuke_log.parse_line("Frame 12 (3 of 10)") == FrameStarted(12)
    assert nuke_log.parse_line("[14:02.11] ERROR: Read1: bad") == LogError("Read1: bad")
    assert nuke_log.parse_line("Total render time: 1.02 seconds") is None


def test_nuke_is_found_from_the_environment(tmp_path: Path) -> None:
    exe = write_fake(tmp_path / "bin", "Nuke14.0", "fake_nuke")
    assert NukeRunner.from_settings(load_settings(env={"CLOUDBURST_NUKE": exe})).executable == exe
    with pytest.raises(ConfigError, match="CLOUDBURST_NUKE"):
        NukeRunner.from_settings(
            Settings(), which=lambda name: None, search_path="", install_globs=()
        )
