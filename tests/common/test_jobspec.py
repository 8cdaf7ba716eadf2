"""``common.jobspec``: the one job-spec builder and pre-flight check, for all four DCCs."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from common.errors import InvalidInput
from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.jobspec import (
    CAMERA_ENV,
    TARGET_ENV,
    PanelSettings,
    Severity,
    build_job_spec,
    defaults_for,
    panel_limits,
    preflight,
    resolve_output,
    scene_frames,
)
from common.models import Placement

SHOW = "/show/tlk"

BLENDER = SceneInfo(
    dcc="blender", scene_path=f"{SHOW}/sh030/sh030_light_v004.blend", frame_start=1,
    frame_end=48, fps=24.0, renderer="cycles", resolution=(1920, 1080),
    targets=(RenderTarget("ViewLayer", "view_layer", ("Camera",), "//render/sh030_####",
                          "cycles"),),
    cameras=("Camera", "Camera.001"), output="//render/sh030_####", output_format="PNG",
    extra={"project_root": f"{SHOW}/sh030"},
)  # fmt: skip
MAYA = SceneInfo(
    dcc="maya", scene_path=f"{SHOW}/sh010/maya/scenes/sh010_lighting_v012.ma",
    frame_start=1001, frame_end=1120, renderer="arnold", resolution=(2048, 858),
    targets=(
        RenderTarget("masterLayer", "render_layer", ("shotCam",),
                     f"{SHOW}/sh010/images/masterLayer/sh010.####.exr", "arnold"),
        RenderTarget("fg_chars", "render_layer", ("shotCam",),
                     f"{SHOW}/sh010/images/fg_chars/sh010.####.exr", "redshift"),
    ),
    cameras=("persp", "shotCam"), output="images/sh010.####.exr", output_format="exr",
    extra={"project_root": SHOW},
)  # fmt: skip
HOUDINI = SceneInfo(
    dcc="houdini", scene_path=f"{SHOW}/sh020/houdini/sh020_fx_v007.hipnc", frame_start=1001,
    frame_end=1096, frame_step=2, renderer="karma",
    targets=(RenderTarget("/out/karma1", "rop", ("/obj/cam1",),
                          "$HIP/render/sh020.$F4.exr", "karma"),),
    output="$HIP/render/sh020.$F4.exr", output_format="exr",
)  # fmt: skip
NUKE = SceneInfo(
    dcc="nuke", scene_path=f"{SHOW}/sh010/comp/sh010_comp_v021.nk", frame_start=1001,
    frame_end=1001, renderer="nuke",
    targets=(RenderTarget("Write_EXR", "write", (), f"{SHOW}/sh010/comp/out.%04d.exr"),
             RenderTarget("Write_MOV", "write", (), f"{SHOW}/sh010/comp/review.mov")),
    output_format="exr",
)  # fmt: skip
SCENES = {"blender": BLENDER, "maya": MAYA, "houdini": HOUDINI, "nuke": NUKE}

#: What each DCC submits when the artist changes nothing.
EXPECTED_DEFAULTS = {
    "blender": ("sh030_light_v004", "1-48", f"{SHOW}/sh030/render/sh030_####", "cycles"),
    "maya": ("sh010_lighting_v012", "1001-1120",
             f"{SHOW}/sh010/maya/scenes/images/sh010.####.exr", "arnold"),
    "houdini": ("sh020_fx_v007", "1001-1096x2", "$HIP/render/sh020.$F4.exr", "karma"),
    "nuke": ("sh010_comp_v021", "1001", f"{SHOW}/sh010/comp/renders/sh010_comp_v021/"
             "sh010_comp_v021_####", "nuke"),
}  # fmt: skip


@pytest.mark.parametrize("dcc", sorted(SCENES))
def test_defaults_give_the_scenes_own_job(dcc: str) -> None:
    info = SCENES[dcc]
    spec = build_job_spec(info, PanelSettings(), owner="mara")
    name, frames, output, renderer = EXPECTED_DEFAULTS[dcc]
    assert (spec.name, spec.frames, spec.output, spec.renderer) == (name, frames, output, renderer)
    assert spec.dcc == dcc and spec.scene == info.scene_path and spec.owner == "mara"
    assert spec.output_format == info.output_format
    assert spec.env == {} and spec.placement is Placement.AUTO and spec.priority == 50


#: The limits each DCC's panel submission holds when the artist changes nothing.
EXPECTED_LIMITS = {
    "blender": ["blender", "cycles"],
    "maya": ["maya", "arnold"],
    "houdini": ["houdini", "karma"],
    "nuke": ["nuke"],
}


@pytest.mark.parametrize("dcc", sorted(SCENES))
def test_a_panel_job_holds_its_dcc_and_renderer_limits(dcc: str) -> None:
    assert build_job_spec(SCENES[dcc], PanelSettings(), owner="m").limits == EXPECTED_LIMITS[dcc]


def test_the_chosen_targets_renderer_is_the_limit_held() -> None:
    spec = build_job_spec(MAYA, PanelSettings(target="fg_chars"), owner="m")
    assert spec.limits == ["maya", "redshift"]


@pytest.mark.parametrize(
    ("dcc", "renderer", "limits"),
    [
        ("maya", "mayaSoftware", ["maya", "mayasoftware"]),
        ("maya", "", ["maya"]),
        ("maya", "V-Ray 6", ["maya"]),  # no limit may be named so: left out
        ("nuke", "Nuke", ["nuke"]),
        ("houdini", " Karma ", ["houdini", "karma"]),
    ],
)
def test_panel_limits(dcc: str, renderer: str, limits: list[str]) -> None:
    assert panel_limits(dcc, renderer) == limits


@pytest.mark.parametrize("dcc", sorted(SCENES))
def test_the_panels_defaults_build_the_same_job_as_empty_settings(dcc: str) -> None:
    info = SCENES[dcc]
    assert build_job_spec(info, defaults_for(info), owner="x") == build_job_spec(
        info, PanelSettings(), owner="x"
    )


def test_every_choice_reaches_the_spec() -> None:
    settings = PanelSettings(
        name="  hero lighting ", project="tlk", frames="1001-1010,1050", chunk_size=5,
        priority=80, placement=Placement.NEVER_CLOUD, target="fg_chars", camera="shotCam",
        output="", output_format="tif", max_retries=1, timeout_s=3600,
    )  # fmt: skip
    spec = build_job_spec(MAYA, settings, owner="mara")
    assert spec.name == "hero lighting" and spec.project == "tlk"
    assert (spec.frames, spec.chunk_size, spec.priority) == ("1001-1010,1050", 5, 80)
    assert spec.placement is Placement.NEVER_CLOUD
    assert spec.output == f"{SHOW}/sh010/images/fg_chars/sh010.####.exr"  # the target's output
    assert spec.renderer == "redshift"  # the target's renderer wins over the scene's
    assert spec.env == {TARGET_ENV: "fg_chars", CAMERA_ENV: "shotCam"}
    assert (spec.output_format, spec.max_retries, spec.timeout_s) == ("tif", 1, 3600)


def test_the_schedule_tracking_and_notes_reach_the_spec() -> None:
    settings = PanelSettings(
        due="2027-03-01T18:00:00+00:00", shotgrid_project="tlk", shotgrid_shot=" sh010 ",
        shotgrid_task="lighting", description=" new key light ", paused=True,
        env={"OCIO": "/studio/ocio/config.ocio"},
    )  # fmt: skip
    spec = build_job_spec(MAYA, settings, owner="mara")
    assert spec.due is not None and spec.due.isoformat() == "2027-03-01T18:00:00+00:00"
    assert spec.shotgrid is not None
    assert (spec.shotgrid.project, spec.shotgrid.shot, spec.shotgrid.task) == (
        "tlk", "sh010", "lighting",
    )  # fmt: skip
    assert spec.description == "new key light" and spec.paused
    assert spec.env == {"OCIO": "/studio/ocio/config.ocio"}
    assert build_job_spec(MAYA, PanelSettings(), owner="m").shotgrid is None


@pytest.mark.parametrize(
    ("due", "words"),
    [("next friday", "is not a date"), ("2027-03-01T18:00", "has no UTC offset")],
)
def test_a_due_date_must_be_a_date_with_its_offset(due: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_job_spec(MAYA, PanelSettings(due=due), owner="m")
    assert caught.value.message.startswith("Due: ") and words in caught.value.message


def test_a_typed_output_wins_and_is_made_absolute_next_to_the_scene() -> None:
    spec = build_job_spec(BLENDER, PanelSettings(output="//final/shot_####"), owner="m")
    assert spec.output == f"{SHOW}/sh030/final/shot_####"


def test_the_spec_does_not_depend_on_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_job_spec(MAYA, PanelSettings(), owner="m")
    monkeypatch.chdir(tmp_path)
    assert build_job_spec(MAYA, PanelSettings(), owner="m") == first


def test_an_unknown_target_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match=r"no render target 'beauty'.*masterLayer, fg_chars"):
        build_job_spec(MAYA, PanelSettings(target="beauty"), owner="m")


@pytest.mark.parametrize(
    ("info", "camera", "known"),
    [
        (BLENDER, "CamB", "Camera, Camera.001"),
        (MAYA, "sideCam", "persp, shotCam"),
        (HOUDINI, "/obj/cam2", "/obj/cam1"),  # the ROPs' cameras count
        (NUKE, "Camera1", "none"),  # a Nuke render takes no camera
    ],
)
def test_a_camera_the_scene_does_not_offer_is_refused_with_the_known_ones(
    info: SceneInfo, camera: str, known: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        build_job_spec(info, PanelSettings(camera=camera), owner="m")
    assert raised.value.message == (
        f"The scene has no camera {camera!r} (it has: {known}). Pick one in the panel, or "
        "Scene camera."
    )
    assert build_job_spec(HOUDINI, PanelSettings(camera="/obj/cam1"), owner="m").env == {
        CAMERA_ENV: "/obj/cam1"
    }


@pytest.mark.parametrize(
    ("settings", "label"),
    [
        (PanelSettings(priority=101), "Priority"),
        (PanelSettings(chunk_size=0), "Chunk size"),
        (PanelSettings(frames="10-1"), "Frames"),
        (PanelSettings(name="x" * 201), "Job name"),
        (PanelSettings(description="x" * 2001), "Description"),
        (PanelSettings(shotgrid_task="lighting"), "ShotGrid"),
    ],
)
def test_bad_values_are_refused_in_the_panels_words(settings: PanelSettings, label: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_job_spec(NUKE, settings, owner="m")
    assert caught.value.message.startswith(f"The job cannot be submitted: {label}: ")


def test_negative_frames_are_refused_for_blender_only() -> None:
    with pytest.raises(InvalidInput, match="negative frames"):
        build_job_spec(BLENDER, PanelSettings(frames="-5-5"), owner="m")
    assert build_job_spec(MAYA, PanelSettings(frames="-5-5"), owner="m").frames == "-5-5"


@pytest.mark.parametrize(
    ("start", "end", "step", "spec"),
    [(1, 250, 1, "1-250"), (1001, 1096, 2, "1001-1096x2"), (7, 7, 1, "7"), (-10, -1, 1, "-10--1")],
)
def test_scene_frames(start: int, end: int, step: int, spec: str) -> None:
    info = replace(NUKE, frame_start=start, frame_end=end, frame_step=step)
    assert scene_frames(info) == spec


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("//render/f_####", "/s/shot/render/f_####"),
        ("render/", "/s/shot/render/"),
        ("./out/../img.####.exr", "/s/shot/img.####.exr"),
        ("/abs/f_####", "/abs/f_####"),
        ("$HIP/render/f.$F4.exr", "$HIP/render/f.$F4.exr"),
        ("~/renders/f_####", os.path.expanduser("~/renders/f_####")),
        ("", ""),
    ],
)
def test_resolve_output(pattern: str, expected: str) -> None:
    assert resolve_output(pattern, "/s/shot/scene.blend") == expected


# --- pre-flight ------------------------------------------------------------------------------

TEXTURE = Asset(f"{SHOW}/tex/wood.png", AssetKind.IMAGE, True, 1000)
MISSING = Asset(f"{SHOW}/tex/metal.png", AssetKind.IMAGE, False)
GAPPY = Asset(
    f"{SHOW}/plates/bg.####.exr", AssetKind.IMAGE, False, 10,
    files=(f"{SHOW}/plates/bg.1001.exr",), missing_files=(f"{SHOW}/plates/bg.1002.exr",),
)  # fmt: skip


def check(info: SceneInfo = BLENDER, settings: PanelSettings | None = None, **kw: object) -> dict:
    """Runs the pre-flight with clean defaults; returns problems by code."""
    args: dict = {"project_root": SHOW, "daemon_ok": True, "dirty": False, "daemon_url": ""}
    args.update(kw)
    assets = args.pop("assets", [TEXTURE])
    problems = preflight(info, settings or PanelSettings(), assets, **args)
    return {p.code: p for p in problems}


@pytest.mark.parametrize("dcc", sorted(set(SCENES) - {"houdini"}))
def test_a_clean_scene_has_no_problems(dcc: str) -> None:
    assert check(SCENES[dcc]) == {}


def test_a_scene_never_saved_is_an_error() -> None:
    problem = check(replace(BLENDER, scene_path=""))["unsaved_scene"]
    assert problem.severity is Severity.ERROR and "never been saved" in problem.message
    assert "Save the scene" in problem.fix


def test_unsaved_changes_are_an_error_with_a_save_button() -> None:
    problem = check(dirty=True)["unsaved_changes"]
    assert problem.severity is Severity.ERROR and problem.action == "save"


@pytest.mark.parametrize(
    ("dcc", "hint"),
    [("blender", "Find Missing Files"), ("maya", "File Path Editor"), ("nuke", "Read nodes")],
)
def test_missing_files_are_an_error_with_the_hosts_fix(dcc: str, hint: str) -> None:
    problem = check(SCENES[dcc], assets=[TEXTURE, MISSING, GAPPY])["missing_files"]
    assert problem.severity is Severity.ERROR
    assert "2 files the scene needs are missing: metal.png, bg.####.exr" in problem.message
    assert "1 file missing from sequences" in problem.message
    assert hint in problem.fix


def test_a_path_only_the_dcc_evaluates_is_not_a_missing_file() -> None:
    expression = Asset('`chs("/tasks/topnet1/sim/sopoutput")`', AssetKind.CACHE, False)
    assert "missing_files" in check(SCENES["houdini"], assets=[expression])
    unevaluated = replace(expression, evaluated=False)
    assert "missing_files" not in check(SCENES["houdini"], assets=[unevaluated])


def test_output_outside_the_project_is_a_warning_with_a_suggestion() -> None:
    problem = check(MAYA, PanelSettings(output="/tmp/sh010_####"))["output_outside_project"]
    assert problem.severity is Severity.WARNING
    assert f"{SHOW}/renders/sh010_lighting_v012/sh010_lighting_v012_####" in problem.fix
    assert "output_outside_project" not in check(MAYA, PanelSettings(output=f"{SHOW}/r/x_####"))
    assert "output_outside_project" not in check(MAYA, project_root=None)


@pytest.mark.parametrize(
    ("frames", "code", "words"),
    [("10-1", "invalid_frames", "runs backwards"), ("a-b", "invalid_frames", "not a frame"),
     ("1,,2", "invalid_frames", "empty part")],
)  # fmt: skip
def test_bad_frames_are_an_error_with_the_parsers_words(frames: str, code: str, words: str) -> None:
    problems = check(settings=PanelSettings(frames=frames))
    assert words in problems[code].message and problems[code].severity is Severity.ERROR
    assert "invalid_job" not in problems  # said once, not twice


def test_an_empty_scene_range_is_an_error() -> None:
    problem = check(replace(BLENDER, frame_start=10, frame_end=1))["empty_frames"]
    assert problem.severity is Severity.ERROR and "empty" in problem.message


def test_frames_outside_the_scene_are_a_warning() -> None:
    problem = check(settings=PanelSettings(frames="40-60"))["frames_outside_scene"]
    assert problem.severity is Severity.WARNING and "12 of the frames (49...)" in problem.message


def test_an_unreachable_daemon_is_an_error_with_a_check_again_button() -> None:
    problem = check(daemon_ok=False, daemon_url="http://farm:8642")["daemon_unreachable"]
    assert problem.severity is Severity.ERROR and problem.action == "check_daemon"
    assert "http://farm:8642" in problem.message and "daemon_url" in problem.fix
    assert "daemon_unreachable" not in check(daemon_ok=None)  # not known yet: no complaint


def test_a_movie_output_is_an_error() -> None:
    assert (
        check(replace(BLENDER, output_format="FFMPEG"))["movie_output"].severity is Severity.ERROR
    )
    assert "movie_output" in check(NUKE, PanelSettings(target="Write_MOV"))


def test_what_the_daemon_would_refuse_is_found_first() -> None:
    problem = check(settings=PanelSettings(frames="-5-5"))["invalid_job"]
    assert "negative frames" in problem.message and problem.severity is Severity.ERROR


def test_errors_come_before_warnings() -> None:
    problems = preflight(
        MAYA, PanelSettings(output="/tmp/x_####"), [MISSING],
        project_root=SHOW, daemon_ok=False,
    )  # fmt: skip
    severities = [p.severity for p in problems]
    assert severities == sorted(severities, key=lambda s: s is not Severity.ERROR)
    assert severities[-1] is Severity.WARNING and severities[0] is Severity.ERROR
