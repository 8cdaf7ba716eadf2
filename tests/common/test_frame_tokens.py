"""The frame-token rule shared by the daemon and the panel's pre-flight."""

from __future__ import annotations

import pytest

from common.errors import NoFrameToken
from common.frame_tokens import check_frame_token, has_frame_token


@pytest.mark.parametrize(
    "output",
    [
        "/r/beauty.####.exr",
        "/r/beauty.#.exr",
        "/r/beauty.%04d.exr",
        "/r/beauty.%d.exr",
        "/r/beauty.$F4.exr",
        "/r/beauty.$F.exr",
        "/r/beauty.${F4}.exr",
    ],
)
def test_outputs_with_a_frame_token(output: str) -> None:
    assert has_frame_token(output, "nuke")
    assert has_frame_token(output, "houdini")


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
