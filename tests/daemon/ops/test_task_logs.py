"""Task logs stay bounded: a cap per attempt (the head and the tail kept, a marker where the
middle was), the newest attempts of a task, and a retention for finished jobs.

The cap is small here (1,000 characters, 200 of them the head) so a "long" log is cheap.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import requests

from common.accounts import Role
from common.config import Settings, load_settings
from common.errors import ConfigError
from common.models import (
    AgentRegistration,
    JobSpec,
    LogQuery,
    LogSource,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
)
from common.ops_settings import LogSettings
from daemon.app import Services
from daemon.auth.principal import Principal
from daemon.services import logs as log_service
from daemon.storage import log_records
from daemon.storage.task_logs import LogCap, TaskLogFiles
from tests.conftest import FakeClock
from tests.daemon.calls import snapshot

CAP = LogSettings(task_log_max_chars=1000, task_log_head_chars=200, task_log_attempts=2,
                  task_log_keep_s=7 * 86400)  # fmt: skip
#: 50 lines of 100 characters: 5,000 characters, five times the cap.
LINES = [f"{i:03d} " + "x" * 95 + "\n" for i in range(50)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", logs=CAP)


def submit(services: Services, frames: str = "1", retries: int = 3) -> int:
    spec = JobSpec(name="shot", owner="ana", project="show", scene="/p/s.blend", frames=frames,
                   chunk_size=1, output="/r/f_####", max_retries=retries)  # fmt: skip
    return services.jobs.submit(spec).id


def agent(services: Services, name: str = "node01") -> str:
    root = Principal(kind="user", name="root", role=Role.ADMIN, user_id=0)
    return services.enrollment.register(AgentRegistration(name=name, hostname=name), root).id


def stored_chars(services: Services, job_id: int, task_id: int) -> int:
    """Characters the task's log files hold (what readers see and what a rewrite will drop)."""
    total = 0
    for path in (services.context.task_logs.root / str(job_id)).glob(f"{task_id}.*.log"):
        fd = os.open(path, os.O_RDONLY)
        try:
            found, _ = log_records.scan(fd, log_records.FILE_HEADER_SIZE, os.fstat(fd).st_size,
                                        verify=True)  # fmt: skip
        finally:
            os.close(fd)
        total += sum(record.chars for record in found)
    return total


def logged_tasks(services: Services) -> set[int]:
    """Tasks that have a log file."""
    return {int(p.name.split(".")[0]) for p in services.context.task_logs.root.rglob("*.log")}


def read(url: str, token: str, job_id: int, task_id: int, offset: int = 0) -> dict[str, Any]:
    response = requests.get(
        f"{url}/api/v1/jobs/{job_id}/tasks/{task_id}/log?offset={offset}",
        headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_long_log_keeps_its_head_and_its_tail(
    live_url: str, admin_token: str, services: Services
) -> None:
    job_id = submit(services)
    auth = {"Authorization": f"Bearer {admin_token}"}
    enrolled = requests.post(f"{live_url}/api/v1/agents", json={"name": "n1", "hostname": "n1"},
                             headers=auth, timeout=10).json()["data"]  # fmt: skip
    as_agent = {"Authorization": f"Bearer {enrolled['token']}"}
    task = requests.post(f"{live_url}/api/v1/agents/{enrolled['id']}/lease", headers=as_agent,
                         timeout=10).json()["data"]  # fmt: skip
    url = f"{live_url}/api/v1/agents/{enrolled['id']}/tasks/{task['task_id']}/log"
    for i, line in enumerate(LINES):
        sent = requests.post(
            url,
            headers=as_agent,
            timeout=10,
            json={"attempt": task["attempt"], "offset": 100 * i, "text": line},
        )
        assert sent.status_code in (200, 204), sent.text  # fmt: skip

    cap = services.context.task_logs.cap
    assert (
        cap.max_chars
        <= stored_chars(services, job_id, task["task_id"])
        <= (cap.max_chars + cap.margin)
    )  # the middle goes from the file once it passes the cap by the margin
    log = read(live_url, admin_token, job_id, task["task_id"])
    head, tail = "".join(LINES[:2]), "".join(LINES[42:])
    assert log["text"].startswith(head) and log["text"].endswith(tail)
    marker = log["text"][len(head) : -len(tail)]
    assert "[... 4000 characters dropped here" in marker and "task_log_max_chars" in marker
    assert log["next_offset"] == 5000

    assert read(live_url, admin_token, job_id, task["task_id"], 4500)["text"] == tail[-500:]
    from_gap = read(live_url, admin_token, job_id, task["task_id"], 1000)
    assert "[... 3200 characters dropped here" in from_gap["text"]
    assert from_gap["text"].endswith(tail) and from_gap["next_offset"] == 5000

    before = snapshot(services)
    resent = requests.post(
        url,
        headers=as_agent,
        timeout=10,
        json={"attempt": task["attempt"], "offset": 4900, "text": LINES[49]},
    )
    assert resent.status_code in (200, 204) and snapshot(services) == before  # fmt: skip


def test_a_short_log_is_kept_whole(services: Services) -> None:
    job_id = submit(services)
    agent_id = agent(services)
    task = services.agents.lease(agent_id)
    assert task is not None
    for i, line in enumerate(LINES[:9]):
        services.agents.append_log(agent_id, task.task_id, TaskLogChunk(
            attempt=task.attempt, offset=100 * i, text=line))  # fmt: skip
    log = services.jobs.log(job_id, task.task_id, 0, None)
    assert log.text == "".join(LINES[:9]) and log.next_offset == 900


def test_a_task_keeps_the_logs_of_its_newest_attempts(services: Services) -> None:
    job_id = submit(services)
    agent_id = agent(services)
    tried: list[tuple[int, int]] = []
    for word in ("first", "second", "third"):
        task = services.agents.lease(agent_id)
        assert task is not None
        tried.append((task.task_id, task.attempt))
        services.agents.append_log(
            agent_id, task.task_id, TaskLogChunk(attempt=task.attempt, offset=0, text=word)
        )
        services.agents.fail(agent_id, task.task_id, TaskFailure(attempt=task.attempt,
                                                                 error="boom"))  # fmt: skip
    texts = [services.jobs.log(job_id, task_id, 0, attempt).text for task_id, attempt in tried]
    assert texts == ["", "second", "third"]


def log_and_maybe_finish(services: Services, agent_id: str, finish: bool) -> int:
    """Leases the next task, logs a line, completes it when ``finish``; returns its id."""
    task = services.agents.lease(agent_id)
    assert task is not None
    services.agents.append_log(
        agent_id, task.task_id, TaskLogChunk(attempt=task.attempt, offset=0, text="a line\n")
    )
    if finish:
        services.agents.complete(agent_id, task.task_id,
                                 TaskDone(attempt=task.attempt, outputs=[]))  # fmt: skip
    return task.task_id


def test_logs_of_jobs_finished_long_ago_are_deleted(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_service, "PURGE_BATCH", 2)  # several transactions
    agent_id = agent(services)
    old = submit(services, "1-5")
    for _ in range(5):
        log_and_maybe_finish(services, agent_id, finish=True)
    assert services.jobs.get(old).state.finished
    clock.advance(CAP.task_log_keep_s - 10)
    submit(services)
    running = log_and_maybe_finish(services, agent_id, finish=False)
    submit(services)
    recent = log_and_maybe_finish(services, agent_id, finish=True)
    clock.advance(20)  # the old job finished the retention and 10 s ago

    assert services.logs.purge_task_logs() == 5
    assert logged_tasks(services) == {running, recent}
    assert services.logs.purge_task_logs() == 0


def test_the_head_must_be_smaller_than_the_cap() -> None:
    env = {"CLOUDBURST_LOGS__TASK_LOG_MAX_CHARS": "5000",
           "CLOUDBURST_LOGS__TASK_LOG_HEAD_CHARS": "5000"}  # fmt: skip
    with pytest.raises(ConfigError, match="task_log_head_chars must be smaller"):
        load_settings(env=env)


def test_a_piece_after_a_gap_keeps_its_place_and_every_character_sent(services: Services) -> None:
    job_id = submit(services)
    task_id = services.jobs.tasks(job_id)[0].id
    logs = TaskLogFiles(services.context.task_logs.root, LogCap(10_000, 1_000, 3))
    logs.append(job_id, task_id, 0, 0, "a" * 100)
    logs.append(job_id, task_id, 0, 105, "b" * 50)  # 5 characters never arrived
    logs.append(job_id, task_id, 0, 155, "c" * 50)
    assert logs.stream_end(job_id, task_id, 0) == 205
    text, next_offset = logs.read(job_id, task_id, 0, 0)
    assert next_offset == 205
    assert text.startswith("a" * 100) and text.endswith("b" * 50 + "c" * 50)
    assert "[... 5 characters dropped here" in text and "never arrived" in text


def test_logs_of_a_job_no_longer_in_the_database_are_deleted(services: Services) -> None:
    job_id = submit(services)
    agent_id = agent(services)
    kept = log_and_maybe_finish(services, agent_id, finish=False)
    services.context.task_logs.append(job_id + 50, 1, 1, 0, "a late piece of a deleted job\n")
    assert services.logs.purge_task_logs() == 1
    assert services.context.task_logs.job_ids() == [job_id] and logged_tasks(services) == {kept}


def test_a_search_reads_a_bounded_part_of_a_job_s_logs(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = submit(services, "1-2")
    logs = services.context.task_logs
    first, second = (task.id for task in services.jobs.tasks(job_id))
    logs.append(job_id, first, 1, 0, "Saved frame 1\n" + "noise\n" * 200)
    logs.append(job_id, second, 1, 0, "Saved frame 2\n")
    query = LogQuery(source=LogSource.TASK, job_id=job_id, contains="saved")
    assert services.logs.search(query).total == 2
    monkeypatch.setattr(log_service, "SEARCH_CHARS", 700)
    page = services.logs.search(query)
    assert [(i.task_id, i.message) for i in page.items] == [(first, "Saved frame 1")]
