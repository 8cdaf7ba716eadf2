"""What a submission may name, over real HTTP: absolute, normalised paths outside the daemon's
data folder, an environment within its limits, and loader variables only from TDs and admins.
Every refusal is a 4xx with a stable code and a sentence, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from common.accounts import Role
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.calls import job_body, snapshot


def post_job(url: str, token: str, **changes: Any) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/jobs",
        json=job_body(**changes),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


@pytest.fixture
def artist(services: Services) -> str:
    return user_token(services, "ana", Role.ARTIST)


@pytest.fixture
def td(services: Services) -> str:
    return user_token(services, "tess", Role.TD)


def refused(
    services: Services, url: str, token: str, status: int, code: str, **changes: Any
) -> str:
    """Submits, checks the refusal changed nothing, and gives its sentence."""
    before = snapshot(services)
    response = post_job(url, token, **changes)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert snapshot(services) == before
    message: str = response.json()["message"]
    return message


# --- paths -----------------------------------------------------------------------------------

BAD_PATHS = {
    "a relative scene": ({"scene": "shots/sh010.blend"}, "is not absolute"),
    "a scene climbing out": ({"scene": "/proj/../../../etc/shadow"}, "'..'"),
    "a scene with a NUL": ({"scene": "/proj/sh010.blend\x00.png"}, "NUL"),
    "a scene with a newline": ({"scene": "/proj/sh010\n.blend"}, "control character"),
    "a scene not normalised": ({"scene": "/proj//sh010.blend"}, "not normalised"),
    "a drive-relative scene": ({"scene": "P:sh010.ma"}, "is not absolute"),
    "a relative output": ({"output": "renders/f_####"}, "is not absolute"),
    "an output in the home folder": ({"output": "~/renders/f_####"}, "is not absolute"),
    "an output of a variable": ({"output": "$HIP/render/f.$F4.exr"}, "is not absolute"),
    "an output climbing out": ({"output": "/renders/../../../etc/cron.d/f_####"}, "'..'"),
    "a Windows output climbing out": ({"output": "P:\\renders\\..\\..\\f_####"}, "'..'"),
    "an output next to the scene climbing out": ({"output": "//../../etc/f_####"}, "'..'"),
    "an output with a NUL": ({"output": "/renders/f_####\x00"}, "NUL"),
    "an output with a dot": ({"output": "/renders/./f_####"}, "not normalised"),
}


@pytest.mark.parametrize("name", BAD_PATHS)
def test_a_path_that_is_not_absolute_and_normalised_is_refused(
    services: Services, live_url: str, artist: str, name: str
) -> None:
    changes, words = BAD_PATHS[name]
    message = refused(services, live_url, artist, 400, "invalid_path", **changes)
    assert words in message
    assert "give" in message  # says what to do


def test_an_output_in_the_daemons_data_folder_is_refused_even_to_an_admin(
    services: Services, live_url: str, admin_token: str
) -> None:
    data = services.context.settings.data_dir
    for output in (f"{data}/f_####", f"{data}/thumbnails/", f"{data}/storage/x/f_####"):
        message = refused(services, live_url, admin_token, 400, "path_not_allowed", output=output)
        assert "data folder" in message


GOOD_PATHS = {
    "POSIX": {"scene": "/mnt/studio/show/sh010.blend", "output": "/mnt/studio/renders/f_####"},
    "a folder of frames": {"output": "/mnt/studio/renders/sh010/"},
    "Windows": {"scene": "P:\\show\\sh010.ma", "output": "P:/renders/sh010/f.####.exr"},
    "UNC": {"scene": "\\\\fs01\\projects\\sh010.nk", "output": "\\\\fs01\\renders\\f.%04d.exr"},
    "next to the scene": {"output": "//render/sh010_####"},
}


@pytest.mark.parametrize("name", GOOD_PATHS)
def test_studio_paths_in_every_form_are_accepted(
    services: Services, live_url: str, artist: str, name: str
) -> None:
    response = post_job(live_url, artist, **GOOD_PATHS[name])
    assert response.status_code == 201, response.text
    assert response.json()["data"]["spec"]["output"] == job_body(**GOOD_PATHS[name])["output"]


# --- the environment -------------------------------------------------------------------------

LOADERS = ["LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "PYTHONPATH",
           "PYTHONSTARTUP", "PERL5LIB", "RUBYLIB", "NODE_OPTIONS", "BASH_ENV", "ENV", "PATH",
           "ld_preload", "MAYA_SCRIPT_PATH", "NUKE_PATH", "HOUDINI_PATH",
           "BLENDER_USER_SCRIPTS", "HOME"]  # fmt: skip


@pytest.mark.parametrize("variable", LOADERS)
def test_an_artist_cannot_set_what_the_renderer_loads(
    services: Services, live_url: str, artist: str, variable: str
) -> None:
    env = {"OCIO": "/studio/ocio/config.ocio", variable: "/home/ana/evil"}
    message = refused(services, live_url, artist, 403, "env_not_allowed", env=env)
    assert variable in message and "ask a TD" in message


@pytest.mark.parametrize("role", [Role.TD, Role.ADMIN])
def test_tds_and_admins_may_set_what_the_renderer_loads(
    services: Services, live_url: str, role: Role
) -> None:
    token = user_token(services, f"pipe-{role.value}", role)
    env = {"PYTHONPATH": "/studio/pipeline/python", "LD_LIBRARY_PATH": "/studio/lib"}
    response = post_job(live_url, token, owner="ana", env=env)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["spec"]["env"] == env


def test_an_artist_may_set_data_variables_and_the_panels_choices(
    live_url: str, artist: str
) -> None:
    env = {"OCIO": "/studio/ocio/config.ocio", "HOUDINI_PATHMAP": "{}", "TEXTURES": "/tex",
           "CLOUDBURST_RENDER_TARGET": "beauty", "CLOUDBURST_CAMERA": "shotCam"}  # fmt: skip
    response = post_job(live_url, artist, env=env)
    assert response.status_code == 201, response.text


BAD_ENVS = {
    "too many variables": ({f"V{i}": "1" for i in range(201)}, "at most 200"),
    "a long value": ({"NOTES": "x" * 16_385}, "at most 16384"),
    "too many bytes": ({f"V{i}": "x" * 16_000 for i in range(5)}, "at most 65536 are"),
    "a long name": ({"V" * 256: "1"}, "at most 255"),
    "a name with '='": ({"A=B": "1"}, "not allowed"),
    "a name starting with a digit": ({"1A": "1"}, "not allowed"),
    "an empty name": ({"": "1"}, "not allowed"),
    "a NUL in a value": ({"SHOT": "sh010\x00"}, "NUL"),
    "the node's token": ({"CLOUDBURST_TOKEN": "stolen"}, "render node itself"),
    "the node's path map": ({"CLOUDBURST_PATH_MAP": "/tmp/map.json"}, "render node itself"),
}


@pytest.mark.parametrize("name", BAD_ENVS)
def test_an_environment_past_its_limits_is_refused_to_everyone(
    services: Services, live_url: str, admin_token: str, name: str
) -> None:
    env, words = BAD_ENVS[name]
    message = refused(services, live_url, admin_token, 400, "invalid_env", env=env)
    assert words in message
