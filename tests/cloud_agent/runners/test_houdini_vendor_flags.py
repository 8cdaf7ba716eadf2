"""The Houdini runner's command lines and the render script's parameter settings, checked
against what SideFX and Maxon document, per renderer.

* husk (Karma and other Hydra delegates): https://www.sidefx.com/docs/houdini/ref/utils/husk.html
  ``-f/--frame``, ``-n/--frame-count`` (a count, not the last frame), ``-i/--frame-inc``,
  ``-V/--verbose`` (a level and flag letters, ``a`` Alfred-style progress), ``-R/--renderer``
  (a Hydra delegate's plug-in name), ``-c/--camera`` (a camera primitive), ``-o/--output``,
  then the USD file.
* hython: https://www.sidefx.com/docs/houdini/hom/commandline.html ``hython script.py args``.
* Render nodes: Mantra ``ifd`` (``vm_picture``, ``camera``, ``vm_alfprogress``), Karma
  (``picture``, ``camera``, ``alfprogress``), USD Render (``outputimage``,
  ``override_camera``, ``alfprogress``), Redshift's ``Redshift_ROP``
  (``RS_outputFileNamePrefix``, ``RS_renderCamera``; https://help.maxon.net/r3d/houdini/en-us/).
  The stand-in ``hython`` runs the real ``hython_render.py`` against the ``hou`` stand-in,
  which has only the parameters a test's scene declares: a name the vendor does not document
  is not found, and the render stops.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud_agent.failure_class import FailureWatch, lines_for
from cloud_agent.process import ManagedProcess
from cloud_agent.runners import houdini_log, redshift_log
from cloud_agent.runners.batch import BatchRender, FileWritten, FrameProgress, LogError
from cloud_agent.runners.houdini import SCRIPT, HoudiniRunner
from common.errors import RenderError
from common.jobspec import CAMERA_ENV, TARGET_ENV
from common.models import FailureClass, TaskAssignment
from tests.cloud_agent.runners.fakes import DATA, write_fake
from tests.common.scene_readers.hip_files import node, odc, parm

#: husk's options as its reference names them, with how many values each takes.
HUSK_OPTIONS = {
    "--frame": 1, "--frame-count": 1, "--frame-inc": 1, "--verbose": 1, "--renderer": 1,
    "--camera": 1, "--output": 1,
}  # fmt: skip


def assignment(
    scene: str, output: str, frames: list[int], renderer: str, **env: str
) -> TaskAssignment:
    return TaskAssignment(
        task_id=5, job_id=2, attempt=1, frames=frames, dcc="houdini", renderer=renderer,
        scene=scene, output=output, output_format="", env=env, timeout_s=None,
        lease_expires_at=datetime.now(UTC),
    )  # fmt: skip


def husk_options(command: list[str]) -> tuple[dict[str, str], list[str]]:
    """husk's options and what is left (the USD file), read as husk's reference defines them."""
    options: dict[str, str] = {}
    rest: list[str] = []
    args = iter(command[1:])
    for arg in args:
        if arg.startswith("-"):
            assert arg in HUSK_OPTIONS, f"{arg} is not in husk's reference"
            options[arg] = next(args)
        else:
            rest.append(arg)
    return options, rest


@pytest.mark.parametrize(
    ("renderer", "delegate"),
    [
        ("karma", "BRAY_HdKarma"),
        ("KarmaXPU", "BRAY_HdKarmaXPU"),
        ("redshift", "HdRedshiftRendererPlugin"),
        ("arnold", "HdArnoldRendererPlugin"),
        ("HdCyclesRendererPlugin", "HdCyclesRendererPlugin"),  # a delegate named as itself
        ("mantra", None),  # no Hydra delegate: the file's render settings choose
        ("", None),
    ],
)
def test_husk_is_called_with_its_documented_options(renderer: str, delegate: str | None) -> None:
    task = assignment("/shows/x/shot.usd", "/r/b.####.exr", [1001, 1003, 1005], renderer,
                      **{CAMERA_ENV: "/cameras/cam1"})  # fmt: skip
    command = HoudiniRunner("/hfs/bin/hython", "/hfs/bin/husk").prepare(task).command
    assert command[0] == "/hfs/bin/husk"
    options, rest = husk_options(command)
    assert rest == ["/shows/x/shot.usd"]
    assert (options["--frame"], options["--frame-count"], options["--frame-inc"]) == (
        "1001",
        "3",
        "2",
    )
    level, letters = options["--verbose"][0], options["--verbose"][1:]
    assert level.isdigit() and letters == "a"  # Alfred-style progress, which the log reads
    assert options.get("--renderer") == delegate
    assert options["--camera"] == "/cameras/cam1" and options["--output"] == "/r/b.$F4.exr"


@pytest.mark.parametrize("renderer", ["--output=/etc/x", "BRAY HdKarma", "-R"])
def test_a_renderer_that_is_no_delegate_name_is_refused_before_husk_runs(renderer: str) -> None:
    task = assignment("/shows/x/shot.usd", "/r/b.####.exr", [1], renderer)
    with pytest.raises(RenderError, match="not a Hydra render delegate"):
        HoudiniRunner("/hfs/bin/hython", "/hfs/bin/husk").prepare(task)


def test_hython_runs_the_script_with_its_arguments() -> None:
    task = assignment("/shows/x/shot.hip", "/r/b.####.exr", [4, 6, 8], "mantra",
                      **{TARGET_ENV: "/out/beauty", CAMERA_ENV: "/obj/cam1"})  # fmt: skip
    command = HoudiniRunner("/hfs/bin/hython").prepare(task).command
    assert command == [
        "/hfs/bin/hython", SCRIPT, "--rop", "/out/beauty", "--camera", "/obj/cam1",
        "--frames", "4", "8", "2", "--output", "/r/b.####.exr", "/shows/x/shot.hip",
    ]  # fmt: skip


# --- the render script's parameters, per render node ------------------------------------------


def write_hip(path: Path) -> Path:
    members: dict[str, str | bytes] = {".start": "fps 24\ntset 0 1\ntcur 0\n"}
    node(members, "obj", "obj")
    node(members, "obj/cam_main", "cam", parm("res", "64", "36"))
    node(members, "obj/cam_alt", "cam", parm("res", "64", "36"))
    node(members, "out", "out")
    node(
        members,
        "out/mantra",
        "ifd",
        parm("camera", "/obj/cam_main"),
        parm("vm_picture", "$HIP/scene/$OS.$F4.exr"),
        parm("vm_alfprogress", "0"),
    )
    node(
        members,
        "out/karma",
        "karma",
        parm("camera", "/obj/cam_main"),
        parm("picture", "$HIP/scene/$OS.$F4.exr"),
        parm("alfprogress", "0"),
    )
    node(
        members,
        "out/rs",
        "Redshift_ROP",
        parm("RS_renderCamera", "/obj/cam_main"),
        parm("RS_outputFileNamePrefix", "$HIP/scene/$OS.$F4.exr"),
    )
    node(members, "stage", "stage")
    node(
        members,
        "stage/usdrender_rop1",
        "usdrender_rop",
        parm("override_camera", "''"),
        parm("outputimage", "$HIP/scene/$OS.$F4.exr"),
        parm("alfprogress", "0"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(odc(members))
    return path  # fmt: skip


def run(
    render: BatchRender,
) -> tuple[list[str], list[float], list[str], FailureClass | None, int | None]:
    lines: list[str] = []
    progress: list[float] = []
    errors: list[str] = []
    watch = FailureWatch(lines_for("houdini"))

    def on_line(line: str) -> None:
        lines.append(line)
        watch.feed(line)
        report = render.interpret(line)
        if report.progress is not None:
            progress.append(report.progress)
        if report.error:
            errors.append(report.error)

    result = ManagedProcess(render.command, env={**os.environ, **render.env}).run(on_line)
    return lines, progress, errors, watch.strongest(), result.exit_code


@pytest.mark.parametrize(
    ("rop", "camera"),
    [("/out/mantra", "/obj/cam_alt"), ("/out/karma", "/obj/cam_alt"),
     ("/stage/usdrender_rop1", "/cameras/cam_alt")],
)  # fmt: skip
def test_the_script_sets_each_render_nodes_documented_parameters(
    tmp_path: Path, rop: str, camera: str
) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    output = f"{tmp_path}/job/beauty.####.exr"
    task = assignment(str(hip), output, [3, 4], "karma",
                      HOU_STUB_RENDER_LOG=str(DATA / "mantra_parms.txt"),
                      **{TARGET_ENV: rop, CAMERA_ENV: camera})  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    lines, progress, errors, _, code = run(render)
    assert code == 0 and errors == []
    pattern = f"{tmp_path}/job/beauty.$F4.exr"  # the job's output, as Houdini writes ####
    assert [line for line in lines if line.startswith("parms")] == [
        f"parms {rop}: {pattern}|{camera}|1"
    ] * 2
    assert 1.0 in progress
    assert render.finish(code) == [f"{tmp_path}/job/beauty.{f:04d}.exr" for f in (3, 4)]


def test_redshift_renders_through_its_documented_parameters_with_progress(tmp_path: Path) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    task = assignment(str(hip), f"{tmp_path}/job/rs.####.exr", [7], "redshift",
                      HOU_STUB_RENDER_LOG=str(DATA / "houdini_redshift.txt"),
                      **{TARGET_ENV: "/out/rs", CAMERA_ENV: "/obj/cam_alt"})  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    lines, progress, errors, failure, code = run(render)
    assert code == 0 and errors == [] and failure is None
    image = f"{tmp_path}/job/rs.0007.exr"
    assert f"INFO : [Redshift] camera /obj/cam_alt output {tmp_path}/job/rs.$F4.exr" in lines
    assert progress[:3] == [0.0, 0.25, 0.5]  # the frame starts, then its buckets
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert render.finish(code) == [image]


def test_a_redshift_error_fails_the_task_as_out_of_memory(tmp_path: Path) -> None:
    hip = write_hip(tmp_path / "shot" / "shot.hip")
    hython = write_fake(tmp_path / "bin", "hython", "fake_hython")
    task = assignment(str(hip), f"{tmp_path}/job/rs.####.exr", [7], "redshift",
                      HOU_STUB_RENDER_LOG=str(DATA / "houdini_redshift_error.txt"),
                      **{TARGET_ENV: "/out/rs"})  # fmt: skip
    render = HoudiniRunner(hython).prepare(task)
    _, _, errors, failure, code = run(render)
    assert code == 1 and failure is FailureClass.OUT_OF_MEMORY
    assert errors[:2] == [
        "Out of GPU memory: could not allocate 512 MB",
        "Frame rendering aborted.",
    ]


@pytest.mark.parametrize(
    ("line", "event"),
    [
        ("INFO : [Redshift] \tBlock 32/48 (7,4) rendered by GPU 0 in 2ms", FrameProgress(32 / 48)),
        ("[Redshift] Block 3/4 (1,0) rendered by GPU 1 in 9ms", FrameProgress(0.75)),
        ("INFO : [Redshift] Saved file '/r/rs.0007.exr' in 0.04s.", FileWritten("/r/rs.0007.exr")),
        ("ERROR : [Redshift] Cannot open texture", LogError("Cannot open texture")),
        ("Rendering was internally aborted", LogError("Rendering was internally aborted")),
        ("INFO : [Redshift] Rendering frame 7...", None),
        ("Block party at 7", None),
    ],
)
def test_redshift_lines(line: str, event: object) -> None:
    assert redshift_log.parse_line(line) == event
    assert houdini_log.parse_line(line) == event
