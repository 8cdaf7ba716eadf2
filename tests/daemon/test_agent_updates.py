"""Protocol 2's update, through real HTTP: leases renewed, progress applied while the attempt is
the agent's, log pieces appended in order, a task no longer held answered in ``cancel``, bad
bodies refused whole, and the protocol's discovery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from common.agent_protocol_settings import AgentProtocolSettings
from common.config import Settings
from common.models import MAX_LOG_PIECES, MAX_REPORTED
from daemon.app import Services
from tests.conftest import FakeClock
from tests.daemon.calls import snapshot
from tests.daemon.http_farm import HttpFarm

Node = tuple[str, str]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", lease_ttl_s=30, poll_interval_s=0.2,
        agents=AgentProtocolSettings(update_interval_s=2.5),
    )  # fmt: skip


@pytest.fixture
def farm(live_url: str, admin_token: str) -> HttpFarm:
    return HttpFarm(live_url, admin_token)


def send(farm: HttpFarm, node: Node, body: dict[str, Any]) -> requests.Response:
    agent_id, token = node
    return farm.call("POST", f"/agents/{agent_id}/updates", body, token=token)


def task_row(services: Services, task_id: int) -> dict[str, Any]:
    db = services.context.database.db
    return next(iter(db.query("SELECT * FROM tasks WHERE id = ?", [task_id])))


def log_of(farm: HttpFarm, job_id: int, task_id: int) -> str:
    answer = farm.call("GET", f"/jobs/{job_id}/tasks/{task_id}/log")
    assert answer.status_code == 200, answer.text
    text: str = answer.json()["data"]["text"]
    return text


def leased(farm: HttpFarm, node: Node) -> dict[str, Any]:
    task = farm.lease(node)
    assert task is not None
    return task


def test_an_update_renews_leases_and_answers_cancel_for_tasks_not_held(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    job = farm.submit(frames="1-2", chunk_size=1)
    node = farm.register("n1")
    other = farm.register("n2")
    mine, theirs = leased(farm, node), leased(farm, other)
    clock.advance(25)
    answer = send(farm, node, {"task_ids": [mine["task_id"], theirs["task_id"]]})
    assert answer.status_code == 200, answer.text
    reply = answer.json()["data"]
    assert reply["cancel"] == [theirs["task_id"]]
    assert reply["update_interval_s"] == 2.5
    assert task_row(services, mine["task_id"])["lease_expires_at"] == clock.now + 30
    clock.advance(25)  # 50 s after the lease, 25 s after the update (ttl 30 s)
    assert services.reaper.reap() == 1  # only the other node's task, never renewed
    assert task_row(services, mine["task_id"])["state"] == "leased"
    assert farm.call("DELETE", f"/jobs/{job['id']}").status_code == 200
    again = send(farm, node, {"task_ids": [mine["task_id"]]}).json()["data"]
    assert again["cancel"] == [mine["task_id"]]  # the job was cancelled: stop


def test_progress_applies_and_the_first_update_starts_the_task(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    farm.submit(frames="1")
    node = farm.register("n1")
    task = leased(farm, node)
    report = {"task_id": task["task_id"], "attempt": 1, "progress": 0.25}
    first = send(farm, node, {"task_ids": [task["task_id"]], "tasks": [report]})
    assert first.status_code == 200 and first.json()["data"]["cancel"] == []
    row = task_row(services, task["task_id"])
    assert (row["state"], row["progress"], row["started_at"]) == ("running", 0.25, clock.now)
    clock.advance(4)
    send(farm, node, {"task_ids": [task["task_id"]], "tasks": [{**report, "progress": 0.5}]})
    row = task_row(services, task["task_id"])
    assert (row["progress"], row["started_at"]) == (0.5, clock.now - 4)  # started once


def test_log_pieces_append_in_order_a_resend_is_harmless_and_late_ones_count(
    farm: HttpFarm, services: Services
) -> None:
    job = farm.submit(frames="1")
    node = farm.register("n1")
    task = leased(farm, node)
    ident = {"task_id": task["task_id"], "attempt": 1}

    def pieces(*texts: tuple[int, str]) -> dict[str, Any]:
        log = [{"offset": offset, "text": text} for offset, text in texts]
        return {"task_ids": [task["task_id"]], "tasks": [{**ident, "log": log}]}

    assert send(farm, node, pieces((0, "a\n"), (2, "b\n"))).status_code == 200
    assert send(farm, node, pieces((0, "a\n"), (2, "b\n"))).status_code == 200  # a resend
    assert send(farm, node, pieces((2, "b\nc\n"))).status_code == 200  # overlaps what came
    assert log_of(farm, job["id"], task["task_id"]) == "a\nb\nc\n"
    farm.complete(node, task)
    late = send(farm, node, pieces((6, "done\n")))
    assert late.status_code == 200
    assert late.json()["data"]["cancel"] == [task["task_id"]]  # no longer running: stop it
    assert log_of(farm, job["id"], task["task_id"]) == "a\nb\nc\ndone\n"
    assert task_row(services, task["task_id"])["state"] == "done"  # the late update moved nothing


def test_an_update_naming_another_agents_task_changes_nothing_of_it(
    farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    job = farm.submit(frames="1")
    owner, thief = farm.register("n1"), farm.register("n2")
    task = leased(farm, owner)
    before = snapshot(services)
    clock.advance(10)
    report = {
        "task_id": task["task_id"], "attempt": 1, "progress": 0.9,
        "log": [{"offset": 0, "text": "not mine\n"}],
    }  # fmt: skip
    answer = send(farm, thief, {"task_ids": [task["task_id"]], "tasks": [report]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["cancel"] == [task["task_id"]]
    after = snapshot(services)
    assert after["tasks"] == before["tasks"]  # no progress, no start, the lease not renewed
    assert after["task log files"] == before["task log files"]
    assert log_of(farm, job["id"], task["task_id"]) == ""


def _tasks(count: int) -> list[dict[str, Any]]:
    return [{"task_id": i + 1, "attempt": 1} for i in range(count)]


def _one(**fields: Any) -> dict[str, Any]:
    """An update of task 1 with ``fields``."""
    return {"tasks": [{"task_id": 1, "attempt": 1, **fields}]}


def _log(*pieces: tuple[int, str]) -> dict[str, Any]:
    return _one(log=[{"offset": offset, "text": text} for offset, text in pieces])


BAD = {
    "too many tasks": ({"tasks": _tasks(MAX_REPORTED + 1)}, "tasks"),
    "too many task ids": ({"task_ids": list(range(1, MAX_REPORTED + 2))}, "task_ids"),
    "negative offset": (_log((-1, "x")), "tasks.0.log.0.offset"),
    "progress over 1": (_one(progress=1.5), "tasks.0.progress"),
    "too many pieces": (_log(*((i, "x") for i in range(MAX_LOG_PIECES + 1))), "tasks.0.log"),
    "too much log": (_log((0, "x" * 600_000), (600_000, "y" * 400_001)), "tasks.log"),
    "unknown field": ({"task_ids": [], "progress": 0.5}, "progress"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_updates_are_refused_whole_with_the_field_named(
    case: str, farm: HttpFarm, services: Services, clock: FakeClock
) -> None:
    farm.submit(frames="1")
    node = farm.register("n1")
    leased(farm, node)
    body, field = BAD[case]
    before = snapshot(services)
    clock.advance(5)
    answer = send(farm, node, body)
    assert answer.status_code == 400, answer.text
    refusal = answer.json()
    assert refusal["code"] == "invalid_input"
    assert field in [problem["field"] for problem in refusal["details"]]
    assert field.split(".")[-1] in refusal["message"]
    assert snapshot(services) == before  # not even the agent's last_seen moved


def test_an_unknown_agent_must_register_again_and_a_token_reaches_only_its_agent(
    farm: HttpFarm, services: Services
) -> None:
    unknown = farm.call("POST", "/agents/nope/updates", {"task_ids": []})  # as an admin
    assert unknown.status_code == 404 and "register again" in unknown.json()["message"]
    farm.submit(frames="1")
    owner, other = farm.register("n1"), farm.register("n2")
    task = leased(farm, owner)
    before = snapshot(services)
    report = {"task_id": task["task_id"], "attempt": 1, "progress": 0.5}
    stolen = farm.call("POST", f"/agents/{owner[0]}/updates", {"tasks": [report]}, token=other[1])
    assert stolen.status_code == 403 and stolen.json()["code"] == "forbidden"
    assert snapshot(services) == before


def test_the_protocol_route_answers_the_settings(farm: HttpFarm, services: Services) -> None:
    _, token = farm.register("n1")
    answer = farm.call("GET", "/agents/protocol", token=token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {
        "version": 3, "update_interval_s": 2.5, "max_log_chars_per_update": 1_000_000,
        "keep_alive": False, "fast_url": None,
    }  # fmt: skip


def test_old_agents_replies_keep_their_fields(farm: HttpFarm) -> None:
    """Agents of protocol 1 read replies with unknown fields refused: none may appear."""
    node = farm.register("n1")
    beat = farm.call("POST", f"/agents/{node[0]}/heartbeat", {"task_ids": [7]}, token=node[1])
    assert set(beat.json()["data"]) == {"cancel", "lease_expires_at"}
    farm.submit(frames="1")
    assert set(leased(farm, node)) == {
        "task_id", "job_id", "attempt", "frames", "dcc", "renderer", "scene", "output",
        "output_format", "env", "timeout_s", "lease_expires_at", "stall_timeout_s",
    }  # fmt: skip


def test_an_older_attempts_report_is_ignored_without_stopping_the_newer_one(
    farm: HttpFarm, services: Services
) -> None:
    """An outbox sent after a restart may still hold reports of an attempt that failed."""
    farm.submit(frames="1", max_retries=2)
    node = farm.register("n1")
    first = leased(farm, node)
    agent_id, token = node
    failed = farm.call(
        "POST", f"/agents/{agent_id}/tasks/{first['task_id']}/fail",
        {"attempt": 1, "error": "crash"}, token=token,
    )  # fmt: skip
    assert failed.status_code == 200, failed.text
    second = leased(farm, node)
    assert (second["task_id"], second["attempt"]) == (first["task_id"], 2)
    stale = {"task_id": first["task_id"], "attempt": 1, "progress": 0.9}
    answer = send(farm, node, {"task_ids": [first["task_id"]], "tasks": [stale]})
    assert answer.json()["data"]["cancel"] == []  # attempt 2 goes on
    row = task_row(services, first["task_id"])
    assert (row["state"], row["attempts"], row["progress"]) == ("leased", 2, 0.0)
