"""A studio that lists its roots (``[paths]``): scenes and frames only there, in whichever form
(POSIX, drive, UNC) a workstation writes them, over real HTTP; the agent's reports too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from common.accounts import Role
from common.config import Settings
from common.data.pathmap import PathRule
from common.paths_settings import PathSettings
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.calls import job_body, snapshot

STUDIO = PathRule(name="studio", windows="P:\\", unc="\\\\fs01\\projects", linux="/mnt/studio",
                  macos="/Volumes/studio")  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    renders = tmp_path / "renders"
    return Settings(
        data_dir=tmp_path / "data",
        paths=PathSettings(
            scene_roots=["/mnt/studio/shows", "\\\\fs02\\scenes", "P:\\renders\\comp"],
            output_roots=["P:\\renders", str(renders)],
        ),
        path_rules=[STUDIO],
    )


def post_job(url: str, token: str, **changes: Any) -> requests.Response:
    return requests.post(f"{url}/api/v1/jobs", json=job_body(**changes), timeout=30,
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip


INSIDE = {
    "POSIX": ("/mnt/studio/shows/a/sh010.blend", "/mnt/studio/renders/sh010/f_####"),
    "macOS": ("/Volumes/studio/shows/a/sh010.blend", "/Volumes/studio/renders/f_####"),
    "drive, either slash, any case": ("p:/Shows/a/sh010.ma", "P:\\RENDERS\\sh010\\f.####.exr"),
    "UNC": ("\\\\FS01\\projects\\shows\\sh010.nk", "\\\\fs01\\projects\\renders\\f.%04d.exr"),
    "an unmapped UNC root": ("\\\\fs02\\scenes\\sh010.hip", "P:/renders/sh010/"),
    "the root itself": ("/mnt/studio/shows/sh010.blend", "P:/renders/f_####"),
    "next to a scene": ("/mnt/studio/renders/comp/sh010.blend", "//out/sh010_####"),
}


@pytest.mark.parametrize("name", INSIDE)
def test_paths_inside_the_roots_are_accepted_in_every_form(
    live_url: str, admin_token: str, name: str
) -> None:
    scene, output = INSIDE[name]
    response = post_job(live_url, admin_token, scene=scene, output=output)
    assert response.status_code == 201, response.text


OUTSIDE = {
    "a scene in /etc": ({"scene": "/etc/shadow"}, "The scene /etc/shadow is outside"),
    "a scene under a lookalike root": ({"scene": "/mnt/studio/shows2/a.blend"}, "outside"),
    "a scene on another share": ({"scene": "\\\\fs03\\scenes\\a.ma"}, "outside"),
    "an output in /etc": ({"output": "/etc/cron.d/f_####"}, "The output folder /etc/cron.d"),
    "an output on the studio outside renders": ({"output": "P:/shows/f_####"}, "outside"),
    "an output on another drive": ({"output": "Q:\\renders\\f_####"}, "outside"),
    "an output next to a scene outside renders": ({"output": "//render/f_####"}, "outside"),
}


@pytest.mark.parametrize("name", OUTSIDE)
def test_paths_outside_the_roots_are_refused_even_to_an_admin(
    services: Services, live_url: str, admin_token: str, name: str
) -> None:
    changes, words = OUTSIDE[name]
    body = {"scene": "/mnt/studio/shows/a/sh010.blend", "output": "P:/renders/f_####", **changes}
    before = snapshot(services)
    response = post_job(live_url, admin_token, **body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "path_not_allowed"
    assert words in response.json()["message"]
    assert "under one of them" in response.json()["message"]
    assert snapshot(services) == before


def test_an_agent_cannot_report_a_frame_that_really_lies_outside_the_roots(
    services: Services, live_url: str, tmp_path: Path
) -> None:
    renders = tmp_path / "renders"
    (renders / "sh010").mkdir(parents=True)
    secret = tmp_path / "elsewhere" / "f_0001.png"
    secret.parent.mkdir()
    secret.write_bytes(b"not for artists")
    token = user_token(services, "tess", Role.TD)
    headers = {"Authorization": f"Bearer {token}"}
    job = post_job(live_url, token, scene="/mnt/studio/shows/a.blend", frames="1", chunk_size=1,
                   output=f"{renders}/sh010/f_####")  # fmt: skip
    assert job.status_code == 201, job.text
    (renders / "sh010").rmdir()
    (renders / "sh010").symlink_to(secret.parent)  # the output folder swapped for a link
    agent = requests.post(f"{live_url}/api/v1/agents", json={"name": "n", "hostname": "n"},
                          headers=headers, timeout=30).json()["data"]  # fmt: skip
    auth = {"Authorization": f"Bearer {agent['token']}"}
    url = f"{live_url}/api/v1/agents/{agent['id']}"
    task = requests.post(f"{url}/lease", headers=auth, timeout=30).json()["data"]
    before = snapshot(services)
    report = {"attempt": 1, "outputs": [f"{renders}/sh010/f_0001.png"]}
    response = requests.post(
        f"{url}/tasks/{task['task_id']}/complete", headers=auth, json=report, timeout=30
    )
    assert response.status_code == 400 and response.json()["code"] == "output_not_allowed"
    assert "outside the studio's output roots" in response.json()["message"]
    assert snapshot(services) == before
