"""Task logs through real HTTP: an agent's piece is stored without the database's write lock,
a full disk refuses it whole, and the log search reads the files line by line."""

from __future__ import annotations

import errno
import os
from typing import Any

import pytest
import requests

from common.models import JobSpec
from daemon.app import Services
from daemon.storage import log_records
from tests.daemon.calls import snapshot


class Agent:
    """An enrolled agent holding a leased task, speaking real HTTP."""

    def __init__(self, url: str, admin_token: str, name: str = "n1") -> None:
        self.url = url
        enrolled = requests.post(
            f"{url}/api/v1/agents", json={"name": name, "hostname": name},
            headers={"Authorization": f"Bearer {admin_token}"}, timeout=10,
        ).json()["data"]  # fmt: skip
        self.id = enrolled["id"]
        self.headers = {"Authorization": f"Bearer {enrolled['token']}"}
        self.task: dict[str, Any] = requests.post(
            f"{url}/api/v1/agents/{self.id}/lease", headers=self.headers, timeout=10
        ).json()["data"]

    def log(self, offset: int, text: str, timeout: float = 10) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/agents/{self.id}/tasks/{self.task['task_id']}/log",
            json={"attempt": self.task["attempt"], "offset": offset, "text": text},
            headers=self.headers, timeout=timeout,
        )  # fmt: skip


def submit(services: Services, frames: str = "1") -> int:
    spec = JobSpec(name="shot", owner="ana", project="show", scene="/p/s.blend", frames=frames,
                   chunk_size=1, output="/r/f_####")  # fmt: skip
    return services.jobs.submit(spec).id


def get(url: str, token: str, path: str) -> requests.Response:
    return requests.get(f"{url}/api/v1{path}", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)  # fmt: skip


def test_a_log_piece_is_stored_while_another_request_holds_the_write_lock(
    live_url: str, admin_token: str, services: Services
) -> None:
    job_id = submit(services)
    agent = Agent(live_url, admin_token)
    with services.context.database.transaction():  # a long write elsewhere in the daemon
        answer = agent.log(0, "Fra:1 Mem:12M\n", timeout=20)
    assert answer.status_code == 200, answer.text
    log = get(live_url, admin_token, f"/jobs/{job_id}/tasks/{agent.task['task_id']}/log")
    assert log.json()["data"]["text"] == "Fra:1 Mem:12M\n"


def test_a_full_disk_refuses_a_log_piece_whole(
    live_url: str, admin_token: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(services)
    agent = Agent(live_url, admin_token)
    assert agent.log(0, "kept\n").status_code == 200
    before = snapshot(services)

    def half_then_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(log_records, "write_all", half_then_full)
        answer = agent.log(5, "lost to a full disk\n")
    assert answer.status_code == 507 and answer.json()["code"] == "disk_full"
    assert "free space" in answer.json()["message"]
    assert snapshot(services) == before
    assert agent.log(5, "sent again\n").status_code == 200
    log = get(live_url, admin_token, f"/jobs/{job_id}/tasks/{agent.task['task_id']}/log")
    assert log.json()["data"]["text"] == "kept\nsent again\n"


def test_the_log_search_finds_lines_across_pieces_in_any_case_and_pages_them(
    live_url: str, admin_token: str, services: Services
) -> None:
    job_id = submit(services, "1-2")
    first, second = Agent(live_url, admin_token, "n1"), Agent(live_url, admin_token, "n2")
    first.log(0, "Fra:1 Mem:12M\nSaved: '/r/f_0")  # a line cut between two pieces
    first.log(28, "001.png'\nFra:1 done\n")
    second.log(0, "Fra:2 Mem:13M\nSAVED: '/r/f_0002.png'\n")
    search = f"/logging/logs?source=task&job_id={job_id}"

    found = get(live_url, admin_token, f"{search}&contains=saved").json()["data"]
    assert [(i["task_id"], i["id"], i["message"], i["agent_id"]) for i in found["items"]] == [
        (first.task["task_id"], 14, "Saved: '/r/f_0001.png'", first.id),
        (second.task["task_id"], 14, "SAVED: '/r/f_0002.png'", second.id),
    ]
    assert found["total"] == 2 and found["next_offset"] is None

    every = get(live_url, admin_token, f"{search}&offset=1&limit=2").json()["data"]
    assert [i["message"] for i in every["items"]] == ["Saved: '/r/f_0001.png'", "Fra:1 done"]
    assert every["total"] == 5 and every["next_offset"] == 3
    one_task = get(live_url, admin_token, f"{search}&task_id={second.task['task_id']}")
    assert [i["message"] for i in one_task.json()["data"]["items"]] == [
        "Fra:2 Mem:13M", "SAVED: '/r/f_0002.png'"
    ]  # fmt: skip
    other_job = get(live_url, admin_token, f"/logging/logs?source=task&job_id={job_id + 1}")
    assert other_job.status_code == 200 and other_job.json()["data"]["items"] == []
