"""The Houdini runner renders through the camera chosen in the panel.

``hython`` is the stand-in that runs the real ``hython_render.py`` against the ``hou``
stand-in; its render prints the render node's camera parameter as it is when the node renders.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_agent.process import ManagedProcess
from cloud_agent.runners.batch import BatchRender
from cloud_agent.runners.houdini import HoudiniRunner
from common.errors import RenderError
from common.jobspec import CAMERA_ENV, TARGET_ENV
from common.models import TaskAssignment
from tests.cloud_agent.runners.fakes import write_fake
from tests.common.scene_readers.hip_files import node, odc, parm


def assignment(scene: str, output: str, **env: str) -> TaskAssignment:
    return TaskAssignment(
        task_id=5, job_id=2, attempt=1, frames=[1, 2], dcc="houdini", renderer="mantra",
        scene=scene, output=output, output_format="", env=env, timeout_s=None,
        lease_expires_at=datetime.now(UTC),
    )  # fmt: skip


def write_hip(path: Path) -> Path:
    members: dict[str, str | bytes] = {".start": "fps 24\ntset 0 1\ntcur 0\n"}
    node(members, "obj", "obj")
    node(members, "obj/cam_main", "cam", parm("res", "64", "36"))
    node(members, "obj/cam_alt", "cam", parm("res", "64", "36"))
    node(members, "out", "out")
    node(members, "out/beauty", "ifd", parm("camera", "/obj/cam_main"),
         parm("vm_picture", "$HIP/render/$OS.$F4.exr"))  # fmt: skip
    node(members, "out/rs", "Redshift_ROP", parm("RS_renderCamera", "/obj/cam_main"),
         parm("RS_outputFileNamePrefix", "$HIP/render/$OS.$F4.exr"))  # fmt: skip
    node(members, "out/cache", "geometry", parm("sopoutput", "$HIP/geo/$OS.$F4.bgeo.sc"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(odc(members))
    return path


def run(render: BatchRender) -> tuple[list[str], list[str], int | None]:
    lines: list[str] = []
    errors: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        report = render.interpret(line)
        if report.error:
            errors.append(report.error)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    return lines, errors, result.exit_code


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, str, Path]:
    """The hip file, the ``hython`` stand-in and the render log that shows the camera."""
    log = tmp_path / "log.txt"
    log.write_text("rendering frame {frame} through {parms[camera]}{parms[RS_renderCamera]}\n"
                   "@write\n")  # fmt: skip
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    return hip, write_fake(tmp_path / "bin", "hython", "fake_hython"), log


@pytest.mark.parametrize("rop", ["/out/beauty", "/out/rs"])
def test_the_chosen_camera_is_the_one_the_rop_renders_through(
    scene: tuple[Path, str, Path], rop: str
) -> None:
    hip, hython, log = scene
    output = f"{hip.parent}/render/beauty.$F4.exr"
    task = assignment(str(hip), output, HOU_STUB_RENDER_LOG=str(log),
                      **{TARGET_ENV: rop, CAMERA_ENV: "/obj/cam_alt"})  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    assert render.command[2:6] == ["--rop", rop, "--camera", "/obj/cam_alt"]
    lines, errors, code = run(render)
    assert code == 0 and errors == []
    seen = [line for line in lines if line.startswith("rendering")]
    assert seen == [f"rendering frame {f} through /obj/cam_alt" for f in (1, 2)]
    assert render.finish(code) == [f"{hip.parent}/render/beauty.{f:04d}.exr" for f in (1, 2)]


def test_without_a_choice_the_rop_keeps_its_camera(scene: tuple[Path, str, Path]) -> None:
    hip, hython, log = scene
    task = assignment(str(hip), f"{hip.parent}/render/b.$F4.exr", HOU_STUB_RENDER_LOG=str(log),
                      **{TARGET_ENV: "/out/beauty"})  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    assert "--camera" not in render.command
    lines, _, code = run(render)
    assert code == 0
    assert "rendering frame 1 through /obj/cam_main" in lines


@pytest.mark.parametrize(
    ("rop", "camera", "error"),
    [
        ("/out/beauty", "/obj/nope", "the scene has no camera /obj/nope; pick one of its cameras"),
        ("/out/cache", "/obj/cam_alt", "the render node /out/cache (geometry) has no camera to "
         "set to /obj/cam_alt; choose Scene camera in the panel, or a render node that renders "
         "through a camera"),
    ],
)  # fmt: skip
def test_a_camera_the_rop_cannot_use_fails_the_task_before_it_renders(
    scene: tuple[Path, str, Path], rop: str, camera: str, error: str
) -> None:
    hip, hython, log = scene
    task = assignment(str(hip), f"{hip.parent}/render/b.$F4.exr", HOU_STUB_RENDER_LOG=str(log),
                      **{TARGET_ENV: rop, CAMERA_ENV: camera})  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    lines, errors, code = run(render)
    assert code == 1 and errors == [error]
    assert not any(line.startswith("rendering") for line in lines)
    with pytest.raises(RenderError, match="Houdini exited with code 1"):
        render.finish(code)


def test_husk_renders_through_the_chosen_camera(tmp_path: Path) -> None:
    task = assignment("/shows/x/shot.usd", f"{tmp_path}/r/b.####.exr",
                      **{CAMERA_ENV: "/cameras/closeup"})  # fmt: skip
    render = HoudiniRunner("/opt/hfs/bin/hython", "/opt/hfs/bin/husk").prepare(task)
    assert render.command == [
        "/opt/hfs/bin/husk", "--verbose", "2a", "--frame", "1", "--frame-count", "2",
        "--frame-inc", "1", "--camera", "/cameras/closeup",
        "--output", f"{tmp_path}/r/b.$F4.exr", "/shows/x/shot.usd",
    ]  # fmt: skip
    no_choice = assignment("/shows/x/shot.usd", f"{tmp_path}/r/b.####.exr")
    assert "--camera" not in HoudiniRunner("hython", "husk").prepare(no_choice).command


@pytest.mark.parametrize("camera", ["--output=/etc/passwd", "cam1", "/obj/cam 1", "/obj/c\nam"])
@pytest.mark.parametrize("scene_file", ["/shows/x/shot.usd", "/shows/x/shot.hip"])
def test_a_camera_that_is_not_a_path_is_refused_before_anything_runs(
    tmp_path: Path, camera: str, scene_file: str
) -> None:
    task = assignment(scene_file, f"{tmp_path}/r/b.####.exr", **{CAMERA_ENV: camera})
    with pytest.raises(RenderError, match="is not a Houdini camera path") as raised:
        HoudiniRunner("/opt/hfs/bin/hython", "/opt/hfs/bin/husk").prepare(task)
    assert "Pick the camera in the panel again" in raised.value.message
    assert not (tmp_path / "r").exists()
