"""An agent names the files a task wrote; over real HTTP, only files directly inside the job's
output folder are accepted, and only those that still pass are ever served (zip, thumbnails)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from common.models import JobSpec
from daemon.app import Services
from daemon.storage import jobs as job_store
from tests.daemon.calls import snapshot

KEY = "auth-signing.key"
ADMIN_FILE = "local-admin.json"


@dataclass
class Farm:
    """A daemon on 127.0.0.1 with one job leased to one agent, over real HTTP."""

    url: str
    services: Services
    admin: str
    agent_id: str
    agent: str
    job_id: int
    task_id: int
    out: Path
    data: Path

    def call(self, method: str, path: str, token: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(
            method, f"{self.url}/api/v1{path}", json=body, headers=headers, timeout=30
        )

    def complete(self, outputs: list[str]) -> requests.Response:
        path = f"/agents/{self.agent_id}/tasks/{self.task_id}/complete"
        return self.call("POST", path, self.agent, {"attempt": 1, "outputs": outputs})

    def zip_names(self) -> dict[str, bytes] | None:
        """The zip's files by name; None when the daemon serves no zip (404)."""
        response = self.call("GET", f"/jobs/{self.job_id}/outputs.zip", self.admin)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    def task_state(self) -> str:
        tasks = self.call("GET", f"/jobs/{self.job_id}/tasks", self.admin).json()["data"]["items"]
        state: str = next(t["state"] for t in tasks if t["id"] == self.task_id)
        return state


@pytest.fixture
def farm(services: Services, live_url: str, admin_token: str, tmp_path: Path) -> Farm:
    services.auth.ensure_local_admin()  # the credential a daemon writes on its first start
    out = tmp_path / "renders" / "sh010"
    out.mkdir(parents=True)
    headers = {"Authorization": f"Bearer {admin_token}"}
    job = {"name": "sh010", "owner": "admin", "scene": str(tmp_path / "shots" / "sh010.blend"),
           "frames": "1-2", "chunk_size": 2, "output": str(out / "f_####")}  # fmt: skip
    response = requests.post(f"{live_url}/api/v1/jobs", json=job, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    job_id = response.json()["data"]["id"]
    agent = requests.post(f"{live_url}/api/v1/agents", json={"name": "n1", "hostname": "n1"},
                          headers=headers, timeout=30).json()["data"]  # fmt: skip
    lease = requests.post(f"{live_url}/api/v1/agents/{agent['id']}/lease", timeout=30,
                          headers={"Authorization": f"Bearer {agent['token']}"})  # fmt: skip
    assert lease.status_code == 200, lease.text
    return Farm(url=live_url, services=services, admin=admin_token, agent_id=agent["id"],
                agent=agent["token"], job_id=job_id, task_id=lease.json()["data"]["task_id"],
                out=out, data=services.context.settings.data_dir)  # fmt: skip


def frame(farm: Farm, number: int, colour: str = "teal") -> str:
    path = farm.out / f"f_{number:04d}.png"
    Image.new("RGB", (64, 36), colour).save(path)
    return str(path)


def link(at: Path, to: Path) -> str:
    at.parent.mkdir(parents=True, exist_ok=True)
    at.symlink_to(to)
    return str(at)


#: What a hostile agent reports, beside an honest frame.
HOSTILE: dict[str, Callable[[Farm], str]] = {
    "a system file": lambda farm: "/etc/passwd",
    "the local admin credential": lambda farm: str(farm.data / ADMIN_FILE),
    "the token signing key": lambda farm: str(farm.data / KEY),
    "a climb out of the folder": lambda farm: f"{farm.out}/../../data/{KEY}",
    "a climb that lands back inside": lambda farm: f"{farm.out}/../sh010/f_0001.png",
    "a link in the folder": lambda farm: link(farm.out / "f_0002.png", farm.data / KEY),
    "a link to a folder": lambda farm: link(farm.out / "keys", farm.data) + f"/{KEY}",
    "a file in a subfolder": lambda farm: str(farm.out / "sub" / "f_0002.png"),
    "a NUL in the name": lambda farm: f"{farm.out}/f_0002.png\x00.txt",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_report_naming_a_file_outside_the_output_folder_is_refused_and_changes_nothing(
    farm: Farm, name: str
) -> None:
    honest = frame(farm, 1)
    hostile = HOSTILE[name](farm)
    before = snapshot(farm.services)

    response = farm.complete([honest, hostile])

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "output_not_allowed"
    assert "directly inside job" in response.json()["message"]
    assert snapshot(farm.services) == before
    assert farm.task_state() == "leased"
    assert farm.zip_names() is None  # nothing was accepted, so nothing is served
    thumbnail = farm.call("GET", f"/jobs/{farm.job_id}/thumbnail?frame=1", farm.admin)
    assert thumbnail.status_code == 404


def test_an_honest_report_is_accepted_and_served(farm: Farm) -> None:
    frames = [frame(farm, 1), frame(farm, 2, "red")]
    assert farm.complete(frames).status_code == 200
    assert farm.task_state() == "done"
    files = farm.zip_names()
    assert files is not None and sorted(files) == ["f_0001.png", "f_0002.png"]
    assert files["f_0002.png"] == Path(frames[1]).read_bytes()


def test_a_frame_swapped_for_a_link_after_the_report_is_never_served(farm: Farm) -> None:
    frames = [frame(farm, 1), frame(farm, 2)]
    assert farm.complete(frames).status_code == 200
    Path(frames[1]).unlink()
    Path(frames[1]).symlink_to(farm.data / KEY)  # a node with studio access swaps it

    files = farm.zip_names()
    assert files is not None and sorted(files) == ["f_0001.png"]
    secret = (farm.data / KEY).read_bytes()
    assert all(secret not in data for data in files.values())
    thumbnail = farm.call("GET", f"/jobs/{farm.job_id}/thumbnail?frame=2", farm.admin)
    assert thumbnail.status_code == 404
    assert farm.call("GET", f"/jobs/{farm.job_id}/thumbnail?frame=1", farm.admin).ok


def test_outputs_stored_before_the_rules_are_checked_again_when_served(farm: Farm) -> None:
    honest = frame(farm, 1)
    assert farm.complete([honest]).status_code == 200
    swapped = link(farm.out / "f_0002.png", farm.data / KEY)
    stored = [honest, "/etc/passwd", str(farm.data / KEY), str(farm.data / ADMIN_FILE),
              f"{farm.out}/../../data/{KEY}", swapped]  # fmt: skip
    with farm.services.context.database.transaction() as db:  # as an older daemon stored them
        db.execute("UPDATE tasks SET outputs = ? WHERE id = ?", [json.dumps(stored), farm.task_id])

    files = farm.zip_names()
    assert files is not None and sorted(files) == ["f_0001.png"]
    assert farm.call("GET", f"/jobs/{farm.job_id}/thumbnail?frame=2", farm.admin).status_code == 404


def test_a_job_stored_with_its_output_in_the_data_folder_serves_nothing(farm: Farm) -> None:
    spec = JobSpec(name="old", owner="admin", scene="/shots/a.blend", frames="1",
                   output=str(farm.data / "f_####"))  # fmt: skip
    with farm.services.context.database.transaction() as db:  # written before the rules
        job_id = job_store.insert_job(db, spec, [[1]], 0.0)
        db.execute(
            "UPDATE tasks SET state = 'done', outputs = ? WHERE job_id = ?",
            [json.dumps([str(farm.data / KEY)]), job_id],
        )
    response = farm.call("GET", f"/jobs/{job_id}/outputs.zip", farm.admin)
    assert response.status_code == 404
    assert farm.call("GET", f"/jobs/{job_id}/thumbnail", farm.admin).status_code == 404


def test_the_agent_cannot_complete_a_stored_job_whose_output_is_the_data_folder(
    farm: Farm,
) -> None:
    with farm.services.context.database.transaction() as db:  # an older daemon accepted it
        row = job_store.get_job(db, farm.job_id)
        assert row is not None
        spec = JobSpec.model_validate_json(row["spec"])
        moved = spec.model_copy(update={"output": str(farm.data / "f_####")})
        db.execute("UPDATE jobs SET spec = ? WHERE id = ?", [moved.model_dump_json(), farm.job_id])
    before = snapshot(farm.services)
    response = farm.complete([str(farm.data / KEY)])
    assert response.status_code == 400 and response.json()["code"] == "output_not_allowed"
    assert "data folder" in response.json()["message"]
    assert snapshot(farm.services) == before
    assert os.path.exists(farm.data / KEY)


def test_a_job_writing_through_a_link_to_the_data_folder_cannot_report_its_keys(
    services: Services, live_url: str, admin_token: str, tmp_path: Path
) -> None:
    data = services.context.settings.data_dir
    alias = Path(link(tmp_path / "renders" / "alias", data))  # looks like studio storage
    headers = {"Authorization": f"Bearer {admin_token}"}
    job = {"name": "a", "owner": "admin", "scene": "/shots/a.blend", "frames": "1",
           "output": f"{alias}/f_####"}  # fmt: skip
    assert requests.post(f"{live_url}/api/v1/jobs", json=job, headers=headers, timeout=30).ok
    agent = requests.post(f"{live_url}/api/v1/agents", json={"name": "n", "hostname": "n"},
                          headers=headers, timeout=30).json()["data"]  # fmt: skip
    auth = {"Authorization": f"Bearer {agent['token']}"}
    url = f"{live_url}/api/v1/agents/{agent['id']}"
    task = requests.post(f"{url}/lease", headers=auth, timeout=30).json()["data"]
    before = snapshot(services)
    response = requests.post(f"{url}/tasks/{task['task_id']}/complete", headers=auth, timeout=30,
                             json={"attempt": 1, "outputs": [f"{alias}/{KEY}"]})  # fmt: skip
    assert response.status_code == 400 and response.json()["code"] == "output_not_allowed"
    assert "inside the daemon's own data folder" in response.json()["message"]
    assert snapshot(services) == before
