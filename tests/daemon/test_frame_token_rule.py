"""A job of several frames must write one file per frame, over real HTTP: an output without a
frame token is refused with a 400 that says to add one, and stores nothing."""

from __future__ import annotations

import pytest
import requests

from common.accounts import Role
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.calls import job_body, snapshot


@pytest.fixture
def ana(services: Services) -> str:
    return user_token(services, "ana", Role.ARTIST)


def post(url: str, token: str, **changes: object) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/jobs", json=job_body(**changes),
        headers={"Authorization": f"Bearer {token}"}, timeout=30,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("dcc", "output"),
    [
        ("nuke", "/renders/shot010/render.gif"),
        ("houdini", "/renders/shot010/out.exr"),
        ("maya", "/renders/shot010/beauty.exr"),
    ],
)
def test_several_frames_to_one_file_are_refused(
    services: Services, live_url: str, ana: str, dcc: str, output: str
) -> None:
    before = snapshot(services)
    response = post(live_url, ana, dcc=dcc, output=output, frames="1-10")
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "no_frame_token"
    assert "Add a frame token" in body["message"] and "10 frames" in body["message"]
    assert snapshot(services) == before


@pytest.mark.parametrize(
    ("dcc", "output", "frames"),
    [
        ("nuke", "/renders/shot010/render.%04d.exr", "1-10"),
        ("nuke", "/renders/shot010/render.####.exr", "1-10"),
        ("houdini", "/renders/shot010/out.$F4.exr", "1-10"),
        ("houdini", "/renders/shot010/out.${F}.exr", "1-10"),
        ("blender", "/renders/shot010/f_", "1-10"),  # Blender appends the frame itself
        ("nuke", "/renders/shot010/still.exr", "7"),  # one frame, one file
    ],
)
def test_an_output_that_names_each_frame_is_taken(
    live_url: str, ana: str, dcc: str, output: str, frames: str
) -> None:
    response = post(live_url, ana, dcc=dcc, output=output, frames=frames)
    assert response.status_code == 201, response.text
