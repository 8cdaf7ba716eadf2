"""``common.jobspec``: a target's own frame range as the default frames, and the pre-flight
refusal of a multi-frame job whose output has no frame number (every frame would overwrite
one file), for all four DCCs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from common.frame_tokens import has_frame_token
from common.host import RenderTarget, SceneInfo
from common.jobspec import (
    PanelSettings,
    Severity,
    build_job_spec,
    defaults_for,
    preflight,
    target_frames,
)

SHOW = "/show/tlk"
HOUDINI = SceneInfo(
    dcc="houdini", scene_path=f"{SHOW}/sh020/sh020_fx.hip", frame_start=1, frame_end=240,
    targets=(
        RenderTarget("/out/cache", "rop", (), f"{SHOW}/geo/sim.$F4.bgeo.sc", "geometry"),
        RenderTarget("/out/beauty", "rop", (), f"{SHOW}/render/beauty.$F4.exr", "mantra"),
    ),
    output=f"{SHOW}/render/beauty.$F4.exr",
    extra={"default_target": "/out/beauty",
           "target_frames": {"/out/cache": "1001-1100", "/out/beauty": "1001-1096x2"}},
)  # fmt: skip


def codes(info: SceneInfo, settings: PanelSettings) -> dict[str, Severity]:
    problems = preflight(info, settings, [], project_root=None, daemon_ok=True)
    return {p.code: p.severity for p in problems}


def test_the_default_rops_range_is_the_default_frames() -> None:
    assert defaults_for(HOUDINI).frames == "1001-1096x2"
    assert build_job_spec(HOUDINI, PanelSettings(), owner="m").frames == "1001-1096x2"
    chosen = build_job_spec(HOUDINI, PanelSettings(target="/out/cache"), owner="m")
    assert chosen.frames == "1001-1100"  # the chosen ROP's own range
    assert target_frames(replace(HOUDINI, extra={})) == "1-240"  # no ranges: the scene's


def test_a_rops_own_range_outside_the_playbar_is_not_a_warning() -> None:
    assert "frames_outside_scene" not in codes(HOUDINI, PanelSettings())
    assert codes(HOUDINI, PanelSettings(frames="300-310"))["frames_outside_scene"] is (
        Severity.WARNING
    )


def test_no_render_node_to_render_by_default_blocks_until_one_is_chosen() -> None:
    only_caches = replace(HOUDINI, extra={"default_target": "", "target_frames": {}})
    assert codes(only_caches, PanelSettings())["no_default_target"] is Severity.ERROR
    assert "no_default_target" not in codes(only_caches, PanelSettings(target="/out/cache"))
    assert "no_default_target" not in codes(HOUDINI, PanelSettings())


@pytest.mark.parametrize(
    ("dcc", "output", "has_token"),
    [
        ("houdini", "/r/beauty.$F4.exr", True),
        ("houdini", "/r/beauty.${F}.exr", True),
        ("houdini", "/r/beauty.$FF.exr", True),
        ("houdini", "/r/beauty.####.exr", True),
        ("houdini", "/r/usd/shot.<F4>.usd", True),  # husk's token
        ("houdini", "$HIP/out.exr", False),
        ("houdini", "/r/$FSTART/out.exr", False),  # another variable
        ("houdini", "/r/beauty.%04d.exr", False),  # Houdini writes it as it is
        ("nuke", "/r/comp.%04d.exr", True),
        ("nuke", "/r/comp.####.exr", True),
        ("nuke", "/r/comp.[frame].exr", True),
        ("nuke", "/r/render.gif", False),
        ("maya", "/r/sh010.####.exr", True),
        ("maya", "/r/sh010.<f4>.exr", True),  # RenderMan and V-Ray
        ("maya", "/r/sh010.exr", False),
        ("blender", "/r/sh030_####", True),
        ("blender", "/r/sh030_", True),  # Blender appends the frame itself
    ],
)
def test_frame_tokens_of_each_dcc(dcc: str, output: str, has_token: bool) -> None:
    assert has_frame_token(output, dcc) is has_token


@pytest.mark.parametrize(
    ("dcc", "output", "fix"),
    [
        ("houdini", f"{SHOW}/render/out.exr", f"{SHOW}/render/out.$F4.exr"),
        ("nuke", f"{SHOW}/comp/render.gif", f"{SHOW}/comp/render.####.gif"),
        ("maya", f"{SHOW}/images/sh010.exr", f"{SHOW}/images/sh010.####.exr"),
    ],
)
def test_a_multi_frame_job_writing_one_file_is_refused_with_the_fix(
    dcc: str, output: str, fix: str
) -> None:
    info = replace(HOUDINI, dcc=dcc, extra={})
    problems = preflight(info, PanelSettings(frames="1-10", output=output), [],
                         project_root=None, daemon_ok=True)  # fmt: skip
    (problem,) = [p for p in problems if p.code == "output_without_frame"]
    assert problem.severity is Severity.ERROR
    assert problem.message == (
        f"The output {output} has no frame number, so each of the 10 frames would overwrite "
        "the same file."
    )
    assert fix in problem.fix


@pytest.mark.parametrize("dcc", ["houdini", "nuke", "maya", "blender"])
def test_one_frame_or_a_frame_token_is_fine(dcc: str) -> None:
    info = replace(HOUDINI, dcc=dcc, extra={})
    single = PanelSettings(frames="7", output=f"{SHOW}/r/still.exr")
    assert "output_without_frame" not in codes(info, single)
    token = {"houdini": "$F4", "nuke": "%04d", "maya": "####", "blender": "####"}[dcc]
    many = PanelSettings(frames="1-10", output=f"{SHOW}/r/shot.{token}.exr")
    assert "output_without_frame" not in codes(info, many)


def test_a_blender_output_without_hashes_is_not_refused() -> None:
    info = replace(HOUDINI, dcc="blender", extra={})
    assert "output_without_frame" not in codes(
        info, PanelSettings(frames="1-10", output=f"{SHOW}/r/shot_")
    )


def test_a_movie_is_refused_once_as_a_movie() -> None:
    info = replace(HOUDINI, dcc="nuke", extra={})
    found = codes(info, PanelSettings(frames="1-10", output=f"{SHOW}/r/review.mov"))
    assert "movie_output" in found and "output_without_frame" not in found
