"""The panel's choices (render target, camera) in a job's environment, through real HTTP: a
value a render could not take as a name is refused, and nothing is stored."""

from __future__ import annotations

import pytest

from common.accounts import Role
from common.jobspec import CAMERA_ENV, TARGET_ENV
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.test_submit_rules import post_job, refused

BAD_CHOICES = {
    "a camera read as an option": ({CAMERA_ENV: "--output=/etc/passwd"}, "starts with '-'"),
    "a target read as an option": ({TARGET_ENV: "-rl"}, "starts with '-'"),
    "a camera on two lines": ({CAMERA_ENV: "/obj/cam1\n-o /tmp/x"}, "control character"),
    "a target with a tab": ({TARGET_ENV: "beauty\tpass"}, "control character"),
    "a camera past its length": ({CAMERA_ENV: "c" * 1025}, "at most 1024"),
}


@pytest.mark.parametrize("name", BAD_CHOICES)
def test_a_choice_that_is_not_a_name_is_refused_and_changes_nothing(
    services: Services, live_url: str, name: str
) -> None:
    env, words = BAD_CHOICES[name]
    token = user_token(services, "ana", Role.ARTIST)
    message = refused(services, live_url, token, 400, "invalid_env", env=env)
    assert words in message
    assert "Pick the render target and the camera again in the panel" in message


def test_names_with_spaces_paths_and_long_names_are_taken(
    services: Services, live_url: str
) -> None:
    token = user_token(services, "ana", Role.ARTIST)
    for env in ({TARGET_ENV: "View Layer 2", CAMERA_ENV: "Camera.001"},
                {TARGET_ENV: "/out/mantra_beauty", CAMERA_ENV: "/obj/cam-main"},
                {CAMERA_ENV: "c" * 1024}):  # fmt: skip
        response = post_job(live_url, token, env=env)
        assert response.status_code == 201, response.text
        assert response.json()["data"]["spec"]["env"] == env
