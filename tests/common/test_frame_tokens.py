"""The frame-token rule shared by the daemon and the panel's pre-flight."""

from __future__ import annotations

import pytest

from common.errors import NoFrameToken
from common.frame_tokens import check_frame_token, has_frame_token


@pytest.mark.parametrize(
    ("dcc", "output"),
    [
        *[(dcc, "/r/beauty.####.exr") for dcc in ("nuke", "houdini", "maya")],
        *[(dcc, "/r/beauty.#.exr") for dcc in ("nuke", "houdini", "maya")],
        ("nuke", "/r/beauty.%04d.exr"),
        ("nuke", "/r/beauty.%d.exr"),
        ("nuke", "/r/beauty.[frame].exr"),
        ("houdini", "/r/beauty.$F4.exr"),
        ("houdini", "/r/beauty.$F.exr"),
        ("houdini", "/r/beauty.${F4}.exr"),
        ("houdini", "/r/beauty.$FF.exr"),
        ("maya", "/r/beauty.<f>.exr"),
    ],
)
def test_outputs_with_a_frame_token(dcc: str, output: str) -> None:
    assert has_frame_token(output, dcc)
    assert has_frame_token(
        output, "an unknown dcc"
    )  # any DCC's token counts for one we do not know


@pytest.mark.parametrize(
    ("dcc", "output"),
    [("houdini", "/r/beauty.%04d.exr"), ("nuke", "/r/beauty.$F4.exr"), ("maya", "/r/b.%04d.exr")],
)
def test_a_token_another_dcc_expands_is_none_of_this_ones(dcc: str, output: str) -> None:
    assert not has_frame_token(output, dcc)


@pytest.mark.parametrize("output", ["/r/render.gif", "/r/out.exr", "/r/$FPS/out.exr", "/r/f"])
def test_outputs_without_one(output: str) -> None:
    assert not has_frame_token(output, "nuke")
    assert not has_frame_token(output, "maya")


def test_blender_appends_the_frame_itself() -> None:
    assert has_frame_token("/r/f_", "blender")
    assert has_frame_token("/r/out.png", "blender")


def test_check_refuses_only_several_frames_to_one_file() -> None:
    check_frame_token("/r/still.exr", "nuke", 1)
    check_frame_token("/r/beauty.####.exr", "nuke", 100)
    with pytest.raises(NoFrameToken, match="Add a frame token") as caught:
        check_frame_token("/r/render.gif", "nuke", 24)
    assert caught.value.status == 400 and caught.value.code == "no_frame_token"
    assert caught.value.details == {"output": "/r/render.gif", "frames": 24}
