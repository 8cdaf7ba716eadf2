"""Limits over real HTTP: TDs set them, anyone signed in reads their use, a job waiting for a
unit says so, and a lease never takes more units than there are, per farm or per node."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from common.accounts import Role
from daemon.app import Services
from tests.conftest import user_token
from tests.daemon.calls import snapshot
from tests.daemon.http_farm import HttpFarm


@pytest.fixture
def farm(live_url: str, services: Services) -> HttpFarm:
    return HttpFarm(live_url, user_token(services, "tess", Role.TD))


def test_a_td_sets_a_limit_everyone_reads_it_and_the_change_is_recorded(
    farm: HttpFarm, services: Services
) -> None:
    answer = farm.put_limit("maya", 20)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {"name": "maya", "capacity": 20, "per_node": False,
                                     "in_use": 0}  # fmt: skip
    farm.put_limit("gpu", 1, per_node=True)
    artist = HttpFarm(farm.url.removesuffix("/api/v1"), user_token(services, "ana", Role.ARTIST))
    assert artist.limits() == {
        "gpu": {"name": "gpu", "capacity": 1, "per_node": True, "in_use": 0},
        "maya": {"name": "maya", "capacity": 20, "per_node": False, "in_use": 0},
    }
    overrides = farm.call("GET", "/overrides").json()["data"]
    assert [(o["by"], o["kind"], o["target"], o["value"]) for o in overrides[:2]] == [
        ("tess", "limit", "limit gpu", "1 per node"),
        ("tess", "limit", "limit maya", "20"),
    ]
    farm.put_limit("maya", 25)
    assert artist.limits()["maya"]["capacity"] == 25
    removed = farm.call("DELETE", "/limits/maya")
    assert removed.status_code == 200 and removed.json()["data"]["capacity"] == 25
    assert set(artist.limits()) == {"gpu"}


def test_an_artist_may_not_set_or_remove_a_limit(farm: HttpFarm, services: Services) -> None:
    farm.put_limit("maya", 20)
    artist = HttpFarm(farm.url.removesuffix("/api/v1"), user_token(services, "ana", Role.ARTIST))
    before = snapshot(services)
    for answer in (artist.put_limit("maya", 999), artist.call("DELETE", "/limits/maya")):
        assert answer.status_code == 403
        assert answer.json()["code"] == "forbidden"
    assert snapshot(services) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("PUT", "/limits/has%20space", {"capacity": 2}, 400, "invalid_input"),
        ("PUT", "/limits/-maya", {"capacity": 2}, 400, "invalid_input"),
        ("PUT", "/limits/" + "m" * 81, {"capacity": 2}, 400, "invalid_input"),
        ("PUT", "/limits/maya", {"capacity": -1}, 400, "invalid_input"),
        ("PUT", "/limits/maya", {"capacity": 2, "owner": "x"}, 400, "invalid_input"),
        ("DELETE", "/limits/arnold", None, 404, "not_found"),
        ("DELETE", "/limits/bad%20name", None, 400, "invalid_input"),
    ],
)  # fmt: skip
def test_bad_limit_requests_are_refused_with_a_sentence_and_change_nothing(
    farm: HttpFarm,
    services: Services,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
) -> None:
    farm.put_limit("maya", 20)
    before = snapshot(services)
    answer = farm.call(method, path, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert answer.json()["message"].endswith(".")
    assert snapshot(services) == before


def test_a_job_waiting_for_a_unit_says_so_in_its_rank_reason(farm: HttpFarm) -> None:
    farm.put_limit("maya", 1)
    job = farm.submit(frames="1-4", chunk_size=1, limits=["maya"])
    other = farm.submit(frames="1-2", chunk_size=1, project="beta")
    first, second = farm.register("n1"), farm.register("n2")
    task = farm.lease(first)
    assert task is not None and task["job_id"] == job["id"]
    assert farm.limits()["maya"]["in_use"] == 1
    waiting = farm.job(job["id"])
    assert waiting["rank_reason"].startswith("Waiting for a unit of 'maya': 1 of 1 in use. ")
    queue = farm.call("GET", "/queue").json()["data"]["items"]
    said = {item["job_id"]: item["reason"] for item in queue}
    assert said[job["id"]] == waiting["rank_reason"]
    assert not said[other["id"]].startswith("Waiting")
    second_task = farm.lease(second)  # the limit is full: the other job's task
    assert second_task is not None and second_task["job_id"] == other["id"]
    farm.complete(first, task)  # the unit comes back
    assert farm.limits()["maya"]["in_use"] == 0
    assert not farm.job(job["id"])["rank_reason"].startswith("Waiting")
    again = farm.lease(first)
    assert again is not None and again["job_id"] == job["id"]


def test_a_per_node_limit_holds_one_gpu_job_per_node(farm: HttpFarm) -> None:
    farm.put_limit("gpu", 1, per_node=True)
    job = farm.submit(frames="1-6", chunk_size=1, limits=["gpu"])
    nodes = [farm.register(f"gpu{i}") for i in range(3)]
    held = {node: farm.lease(node) for node in nodes}
    assert all(task is not None and task["job_id"] == job["id"] for task in held.values())
    assert all(farm.lease(node) is None for node in nodes)  # each holds its one unit
    assert farm.limits()["gpu"]["in_use"] == 1  # on the busiest node
    assert farm.job(job["id"])["task_counts"]["leased"] == 3
    farm.complete(nodes[0], held[nodes[0]])  # type: ignore[arg-type]
    assert farm.lease(nodes[1]) is None  # another node's unit is not this one's
    assert farm.lease(nodes[0]) is not None


def test_a_limit_of_2_holds_under_200_concurrent_lease_requests(
    farm: HttpFarm, services: Services
) -> None:
    """64 threads ask for work for 60 nodes, 200 times in all; each node that gets a task of
    the limited job reports it done at once, so units come and go under the race. After each
    lease, and all along from a watcher thread, the database never shows more than 2 tasks
    holding a unit, nor GET /limits more than 2 in use."""
    farm.put_limit("maya", 2)
    limited = farm.submit(name="limited", frames="1-300", chunk_size=1, limits=["maya"],
                          priority=100)  # fmt: skip
    plain = farm.submit(name="plain", frames="1-300", chunk_size=1, priority=1)
    nodes = [farm.register(f"node{i:02d}") for i in range(60)]
    db_lock = threading.Lock()
    seen: list[int] = []
    done = threading.Event()

    def holding() -> int:
        with db_lock:
            row = services.context.database.db.conn.execute(
                "SELECT count(*) FROM tasks WHERE job_id = ? AND state IN ('leased', 'running')",
                [limited["id"]],
            ).fetchone()
        return int(row[0])

    def watch() -> None:
        while not done.is_set():
            seen.append(holding())

    def ask(i: int) -> int | None:
        node = nodes[i % len(nodes)]
        task = farm.lease(node)
        seen.append(holding())
        seen.append(farm.limits()["maya"]["in_use"])
        if task is not None and task["job_id"] == limited["id"]:
            farm.complete(node, task)
        return None if task is None else task["job_id"]

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            got = Counter(pool.map(ask, range(200)))
    finally:
        done.set()
        watcher.join()
    assert max(seen) <= 2
    assert max(seen) == 2  # the race was real: both units were held at once
    assert got[limited["id"]] > 2  # units came back and were taken again
    assert got[plain["id"]] > 0  # nodes the limit turned away got other work
    assert got[limited["id"]] + got[plain["id"]] + got[None] == 200
    tasks = farm.job(limited["id"])["task_counts"]
    assert tasks["done"] == got[limited["id"]]
