"""The Houdini runner: ``hython hython_render.py`` for a ROP of a hip file (run here by a stand-in
``hython`` that executes the real script against the ``hou`` stand-in, whose render prints
Mantra's recorded lines), ``husk`` for USD files, and Houdini's log."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_agent.process import ManagedProcess
from cloud_agent.runners import houdini_log
from cloud_agent.runners.batch import (
    BatchRender,
    FileWritten,
    FrameFinished,
    FrameProgress,
    LogError,
)
from cloud_agent.runners.houdini import PATHMAP_ENV, SCRIPT, HoudiniRunner
from cloud_agent.runners.path_map_file import PATH_MAP_ENV, PathMap, write_path_map
from common.config import Settings, load_settings
from common.errors import ConfigError, RenderError
from common.jobspec import TARGET_ENV
from common.models import TaskAssignment
from tests.cloud_agent.runners.fakes import DATA, write_fake
from tests.common.scene_readers.hip_files import node, odc, parm


def assignment(frames: list[int], scene: str, output: str, **env: str) -> TaskAssignment:
    return TaskAssignment(
        task_id=5, job_id=2, attempt=1, frames=frames, dcc="houdini", renderer="mantra",
        scene=scene, output=output, output_format="", env=env, timeout_s=None,
        lease_expires_at=datetime.now(UTC),
    )  # fmt: skip


def write_hip(path: Path) -> Path:
    members: dict[str, str | bytes] = {
        ".start": "fps 24\ntset 0 1\ntcur 0\n",
        ".variables": "set -g DRIVERPATH = '/out/beauty'\n",
    }
    node(members, "out", "out")
    node(members, "out/beauty", "ifd", parm("trange", '"off"'),
         parm("vm_picture", "$HIP/render/$OS.$F4.exr"), parm("vm_alfprogress", "0"))  # fmt: skip
    node(members, "out/cache", "geometry", parm("sopoutput", "$HIP/geo/$OS.$F4.bgeo.sc"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(odc(members))
    return path


def run(render: BatchRender) -> tuple[list[float], list[int], list[str], int | None]:
    progress: list[float] = []
    done: list[int] = []
    errors: list[str] = []

    def on_line(line: str) -> None:
        report = render.interpret(line)
        if report.progress is not None:
            progress.append(report.progress)
        done.extend(report.frames_done)
        if report.error:
            errors.append(report.error)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    return progress, done, errors, result.exit_code


def test_the_hython_command_line(tmp_path: Path) -> None:
    task = assignment([1, 3, 5], "/shows/x/shot.hip", f"{tmp_path}/r/b.$F4.exr",
                      **{TARGET_ENV: "/out/beauty"})  # fmt: skip
    render = HoudiniRunner("/opt/hfs/bin/hython").prepare(task)
    assert render.command == [
        "/opt/hfs/bin/hython", SCRIPT, "--rop", "/out/beauty", "--frames", "1", "5", "2",
        "--output", f"{tmp_path}/r/b.$F4.exr", "/shows/x/shot.hip",
    ]  # fmt: skip


def test_a_rop_rendered_by_the_real_script(tmp_path: Path) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    output = f"{hip.parent}/render/beauty.$F4.exr"
    task = assignment([1, 2, 3], str(hip), output, **{
        TARGET_ENV: "/out/beauty", "HOU_STUB_RENDER_LOG": str(DATA / "mantra_alf.txt"),
    })  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    progress, done, errors, code = run(render)
    assert code == 0 and errors == [] and done == [1, 2, 3]
    assert any(0 < p < 1 / 3 for p in progress) and progress[-1] == 1.0
    assert render.finish(code) == [f"{hip.parent}/render/beauty.{f:04d}.exr" for f in (1, 2, 3)]


def test_the_job_output_replaces_the_rops_and_the_default_rop_is_the_last_rendered(
    tmp_path: Path,
) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    output = f"{tmp_path}/elsewhere/beauty_####.exr"  # the job's own, with ####
    render = HoudiniRunner(hython).prepare(assignment([7], str(hip), output))
    _, done, _, code = run(render)
    assert code == 0 and done == [7]
    assert render.finish(code) == [f"{tmp_path}/elsewhere/beauty_0007.exr"]


def test_a_failing_render_stops_with_houdinis_error(tmp_path: Path) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    log = tmp_path / "fail.txt"
    log.write_text("ALF_PROGRESS 10%\nmantra: Unable to open texture /tex/rock.rat\n@fail\n")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    task = assignment([1, 2], str(hip), f"{hip.parent}/render/beauty.$F4.exr",
                      HOU_STUB_RENDER_LOG=str(log))  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    _, done, errors, code = run(render)
    assert code == 1 and done == []
    assert errors[0] == "Unable to open texture /tex/rock.rat"
    with pytest.raises(RenderError, match="Houdini exited with code 1") as raised:
        render.finish(code)
    assert "The attempted operation failed" in raised.value.message


def test_a_missing_rop_is_reported(tmp_path: Path) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    task = assignment([1], str(hip), f"{tmp_path}/r.$F4.exr", **{TARGET_ENV: "/out/nope"})
    render = HoudiniRunner(hython).prepare(task)
    _, _, errors, code = run(render)
    assert code == 1 and errors == ["the scene has no render node /out/nope"]


def test_usd_files_render_with_husk(tmp_path: Path) -> None:
    husk = write_fake(tmp_path / "bin", "husk", "fake_husk", "husk_alf.txt")
    output = f"{tmp_path}/karma/shot.####.exr"
    task = assignment([10, 11, 12], str(tmp_path / "shot.usda"), output)
    task = task.model_copy(update={"renderer": "karma"})
    render = HoudiniRunner("/opt/hfs/bin/hython", husk).prepare(task)
    assert render.command == [
        husk, "--verbose", "2a", "--frame", "10", "--frame-count", "3", "--frame-inc", "1",
        "--renderer", "BRAY_HdKarma", "--output", f"{tmp_path}/karma/shot.$F4.exr",
        str(tmp_path / "shot.usda"),
    ]  # fmt: skip
    progress, done, errors, code = run(render)
    assert code == 0 and errors == []
    assert done == [10, 11]  # the progress starting over closes a frame; the last at exit
    assert render.finish(code) == [f"{tmp_path}/karma/shot.{f:04d}.exr" for f in (10, 11, 12)]
    assert progress == sorted(progress)


def test_usd_without_husk_is_refused() -> None:
    task = assignment([1], "/s/shot.usd", "/r/a.####.exr")
    with pytest.raises(RenderError, match="no husk"):
        HoudiniRunner("/opt/hfs/bin/hython", None).prepare(task)


def test_hython_is_found_and_husk_beside_it(tmp_path: Path) -> None:
    hython = write_fake(tmp_path / "hfs" / "bin", "hython", "fake_hython")
    husk = write_fake(tmp_path / "hfs" / "bin", "husk", "fake_husk")
    runner = HoudiniRunner.from_settings(load_settings(env={"CLOUDBURST_HYTHON": hython}))
    assert (runner.hython, runner.husk) == (hython, husk)
    with pytest.raises(ConfigError, match="CLOUDBURST_HYTHON"):
        HoudiniRunner.from_settings(Settings(), which=lambda name: None)


def test_the_log_parser_on_recorded_lines() -> None:
    lines = (DATA / "mantra_alf.txt").read_text().splitlines()
    events = [houdini_log.parse_line(line) for line in lines if not line.startswith(("#", "@"))]
    assert events == [FrameProgress(0.0), FrameProgress(0.2), FrameProgress(0.6),
                      FrameProgress(1.0), None]  # fmt: skip
    assert houdini_log.parse_line("cloudburst: wrote /r/a.0001.exr") == FileWritten("/r/a.0001.exr")
    assert houdini_log.parse_line("cloudburst: frame -3 done") == FrameFinished(-3)
    assert houdini_log.parse_line("00:00:01 ERROR | [karma] bad") == LogError("[karma] bad")


# --- path maps --------------------------------------------------------------------------------


def write_map(folder: Path, rules: list[tuple[str, str]]) -> str:
    return write_path_map(
        folder / "map.json", PathMap(scene="/mnt/studio/s.hip", rules=tuple(rules))
    )


def test_a_path_map_becomes_houdinis_pathmap(tmp_path: Path) -> None:
    ws = f"{tmp_path}/ws"
    map_file = write_map(tmp_path, [
        ("/mnt/studio", f"{ws}/studio"), ("P:\\", f"{ws}/studio"),
        ("\\\\fs01\\projects", f"{ws}/studio"), ("/mnt/studio/show/lib", f"{ws}/libs"),
    ])  # fmt: skip
    existing = json.dumps({"/old/": "/new/", "/mnt/studio/": "/stale/"})
    task = assignment([1], f"{ws}/studio/s.hip", f"{tmp_path}/r/b.$F4.exr",
                      **{PATH_MAP_ENV: map_file, PATHMAP_ENV: existing})  # fmt: skip
    render = HoudiniRunner("/opt/hfs/bin/hython").prepare(task)
    assert list(json.loads(render.env[PATHMAP_ENV]).items()) == [
        ("/mnt/studio/show/lib/", f"{ws}/libs/"),  # the longest first
        ("//fs01/projects/", f"{ws}/studio/"),
        ("/mnt/studio/", f"{ws}/studio/"),  # the rule wins over the job's stale entry
        ("P:/", f"{ws}/studio/"),
        ("/old/", "/new/"),  # the job's other entries are kept
    ]
    assert render.env[PATH_MAP_ENV] == map_file
    assert render.command[-1] == f"{ws}/studio/s.hip"


def test_without_a_path_map_houdinis_pathmap_is_left_alone(tmp_path: Path) -> None:
    task = assignment([1], "/s/shot.hip", f"{tmp_path}/r/b.$F4.exr", **{PATHMAP_ENV: "{}"})
    assert HoudiniRunner("hython").prepare(task).env[PATHMAP_ENV] == "{}"
    task = assignment([1], "/s/shot.hip", f"{tmp_path}/r/b.$F4.exr")
    assert PATHMAP_ENV not in HoudiniRunner("hython").prepare(task).env


def test_an_unreadable_path_map_is_a_render_error(tmp_path: Path) -> None:
    task = assignment([1], "/s/shot.hip", f"{tmp_path}/r/b.$F4.exr",
                      **{PATH_MAP_ENV: str(tmp_path / "gone.json")})  # fmt: skip
    with pytest.raises(RenderError, match="Cannot read the path map"):
        HoudiniRunner("hython").prepare(task)


# --- which render node: the rules of common.houdini_rops ------------------------------------


def write_rops(path: Path, *rops: tuple[str, str, str, str, bool]) -> Path:
    """A hip with ``(path, type, output parm, output, bypassed)`` render nodes and no
    ``$DRIVERPATH``."""
    members: dict[str, str | bytes] = {".start": "fps 24\ntset 0 1\ntcur 0\n"}
    node(members, "out", "out")
    node(members, "stage", "stage")
    for rop_path, rop_type, parm_name, value, bypassed in rops:
        node(members, rop_path.lstrip("/"), rop_type, parm(parm_name, value))
        if bypassed:
            members[f"{rop_path.lstrip('/')}.def"] = "flags =  lock off bypass on display off\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(odc(members))
    return path


def rendered_rops(tmp_path: Path, hip: Path, output: str, **env: str) -> tuple[list[str], int]:
    """Runs the real script on ``hip``; the ROPs the ``hou`` stand-in rendered, and the code."""
    log = tmp_path / "which.txt"
    log.write_text("rendering {rop}\n@write\n")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    task = assignment([1], str(hip), output, HOU_STUB_RENDER_LOG=str(log), **env)
    render = HoudiniRunner(hython).prepare(task)
    lines: list[str] = []
    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(lines.append)
    rops = [line.removeprefix("rendering ") for line in lines if line.startswith("rendering ")]
    errors = [line for line in lines if line.startswith("cloudburst: error")]
    return rops or errors, result.exit_code or 0


def test_the_default_skips_cache_rops_and_bypassed_ones(tmp_path: Path) -> None:
    hip = write_rops(
        tmp_path / "s" / "shot.hip",
        ("/out/cache", "geometry", "sopoutput", "$HIP/geo/$OS.$F4.bgeo.sc", False),
        ("/out/old", "ifd", "vm_picture", "$HIP/render/$OS.$F4.exr", True),
        ("/out/beauty", "ifd", "vm_picture", "$HIP/render/$OS.$F4.exr", False),
    )
    output = f"{hip.parent}/render/beauty.$F4.exr"  # the panel's default: beauty's own
    assert rendered_rops(tmp_path, hip, output) == (["/out/beauty"], 0)
    assert (hip.parent / "render" / "beauty.0001.exr").is_file()
    assert not (hip.parent / "geo").exists()  # the cache ROP neither rendered nor changed


def test_a_usd_render_rop_in_stage_renders_without_a_choice(tmp_path: Path) -> None:
    hip = write_rops(
        tmp_path / "s" / "shot.hip",
        ("/stage/usdrender_rop1", "usdrender_rop", "outputimage", "$HIP/render/k.$F4.exr", False),
    )
    assert rendered_rops(tmp_path, hip, f"{hip.parent}/render/k.$F4.exr") == (
        ["/stage/usdrender_rop1"],
        0,
    )


def test_a_usd_rop_in_stage_renders_when_chosen_and_only_then(tmp_path: Path) -> None:
    hip = write_rops(
        tmp_path / "s" / "shot.hip",
        ("/stage/usd_rop1", "usd_rop", "lopoutput", "$HIP/usd/shot.$F4.usd", False),
    )
    output = f"{hip.parent}/usd/shot.$F4.usd"
    chosen = rendered_rops(tmp_path, hip, output, **{TARGET_ENV: "/stage/usd_rop1"})
    assert chosen == (["/stage/usd_rop1"], 0)
    assert (hip.parent / "usd" / "shot.0001.usd").is_file()
    (error,), code = rendered_rops(tmp_path, hip, output)
    assert code == 1 and "no render node that renders pictures" in error
    assert "choose one in the panel" in error


def test_a_chosen_bypassed_rop_is_refused_with_the_fix(tmp_path: Path) -> None:
    hip = write_rops(
        tmp_path / "s" / "shot.hip",
        ("/out/old", "ifd", "vm_picture", "$HIP/render/$OS.$F4.exr", True),
    )
    (error,), code = rendered_rops(
        tmp_path, hip, f"{hip.parent}/render/old.$F4.exr", **{TARGET_ENV: "/out/old"}
    )
    assert code == 1 and "turn its bypass flag off" in error
