"""Nodes that keep failing, over real HTTP: kept off a job, sent only to bigger nodes after
running out of memory, marked suspect after failing many tasks in a row; TDs list and clear."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.daemon.calls import snapshot
from tests.daemon.farm_http import Farm, serve_farm


def failure_rows(farm: Farm) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row, the failures of nodes too (to prove a refused call changed nothing)."""
    rows = snapshot(farm.services)
    db = farm.services.context.database.db
    rows["node_job_failures"] = [
        tuple(r.values()) for r in db.query("SELECT * FROM node_job_failures")
    ]
    return rows


def test_a_node_failing_a_job_three_times_stops_getting_it_while_another_finishes_it(
    tmp_path: Path,
) -> None:
    with serve_farm(tmp_path) as farm:  # the default: node_failures_per_job = 3
        job_id = farm.submit(frames="1-3", chunk_size=1, max_retries=5)
        bad, good = farm.agent("bad"), farm.agent("good")
        for _ in range(3):
            lease = farm.lease(bad)
            assert lease is not None and lease["frames"] == [1]
            farm.fail(bad, lease, "Segmentation fault (core dumped)", "crash")
        assert farm.lease(bad) is None  # the job still has frames, but not for this node
        kept = farm.data("GET", f"/jobs/{job_id}/kept-off", as_="artist")
        assert kept == [
            {"agent_id": bad, "name": "bad", "failures": 3,
             "last_error": "Segmentation fault (core dumped)"},
        ]  # fmt: skip
        for frame in (1, 2):
            lease = farm.lease(good)
            assert lease is not None and lease["frames"] == [frame]
            assert farm.complete(good, lease).status_code == 200
        # an artist may not let the node back; a TD may, once
        before = failure_rows(farm)
        refused = farm.call("DELETE", f"/jobs/{job_id}/kept-off/{bad}", as_="artist")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert failure_rows(farm) == before
        assert farm.call("DELETE", f"/jobs/{job_id}/kept-off/{bad}", as_="td").status_code == 200
        assert farm.data("GET", f"/jobs/{job_id}/kept-off") == []
        again = farm.call("DELETE", f"/jobs/{job_id}/kept-off/{bad}", as_="td")
        assert again.status_code == 404 and again.json()["code"] == "not_found"
        assert "is not kept off job" in again.json()["message"]
        assert farm.call("GET", "/jobs/999/kept-off").status_code == 404
        lease = farm.lease(bad)
        assert lease is not None and lease["frames"] == [3]
        farm.complete(bad, lease)
        assert farm.job(job_id)["state"] == "succeeded"


def test_a_node_kept_off_one_job_still_takes_others(tmp_path: Path) -> None:
    with serve_farm(tmp_path, node_failures_per_job=1) as farm:
        broken = farm.submit(name="broken", frames="1-2", chunk_size=1, priority=90)
        fine = farm.submit(name="fine", frames="1", priority=10)
        node = farm.agent("node01")
        lease = farm.lease(node)
        assert lease is not None and lease["job_id"] == broken
        farm.fail(node, lease, "boom", "crash")
        other = farm.lease(node)
        assert other is not None and other["job_id"] == fine


def test_out_of_memory_goes_only_to_a_bigger_node(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        job_id = farm.submit(frames="1", max_retries=2)
        small, same = farm.agent("small", memory_mb=8_000), farm.agent("same", memory_mb=8_000)
        big = farm.agent("big", memory_mb=64_000)
        lease = farm.lease(small)
        assert lease is not None
        farm.fail(small, lease, "Error: Out of memory", "out_of_memory")
        task = farm.tasks(job_id)[0]
        assert task["state"] == "queued" and task["error_class"] == "out_of_memory"
        assert "more memory" in task["error"]
        assert farm.lease(small) is None and farm.lease(same) is None
        bigger = farm.lease(big)
        assert bigger is not None and bigger["task_id"] == lease["task_id"]
        assert bigger["attempt"] == 2


def test_out_of_memory_retries_as_usual_when_no_node_is_bigger(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        job_id = farm.submit(frames="1", max_retries=2)
        small = farm.agent("small", memory_mb=8_000)
        farm.agent("same", memory_mb=8_000)
        lease = farm.lease(small)
        assert lease is not None
        farm.fail(small, lease, "Error: Out of memory", "out_of_memory")
        assert farm.tasks(job_id)[0]["state"] == "queued"
        again = farm.lease(small)
        assert again is not None and again["attempt"] == 2


def test_a_node_failing_tasks_in_a_row_turns_suspect_until_a_td_clears_it(
    tmp_path: Path,
) -> None:
    with serve_farm(tmp_path, node_failures_in_a_row=3, node_failures_per_job=10) as farm:
        job_id = farm.submit(frames="1-10", chunk_size=1, max_retries=0)
        node = farm.agent("node01")

        def fail_next(error: str) -> None:
            lease = farm.lease(node)
            assert lease is not None
            assert farm.fail(node, lease, error, "crash").status_code == 200

        fail_next("GPU fell off the bus")
        fail_next("GPU fell off the bus")
        done = farm.lease(node)
        assert done is not None and farm.complete(node, done).status_code == 200  # the row ends
        fail_next("GPU fell off the bus")
        fail_next("GPU fell off the bus")
        assert farm.agents()[node]["suspect"] == ""  # two in a row since the completed task
        fail_next("Xid 79: GPU has fallen off the bus")
        suspect = farm.agents()[node]["suspect"]
        assert suspect == "failed 3 tasks in a row; last: Xid 79: GPU has fallen off the bus"
        assert farm.lease(node) is None  # frames 7-10 wait, but not for this node
        # an artist may not clear it; bad changes are refused; a TD clears it
        before = failure_rows(farm)
        refused = farm.call("PATCH", f"/agents/{node}", as_="artist", json={"suspect": False})
        assert refused.status_code == 403
        for body in ({}, {"suspect": True}, {"pool": "bad pool!"}, {"colour": "red"}):
            answer = farm.call("PATCH", f"/agents/{node}", as_="td", json=body)
            assert answer.status_code == 400, body
            assert answer.json()["code"] == "invalid_input" and answer.json()["message"]
        unknown = farm.call("PATCH", "/agents/nope", as_="td", json={"suspect": False})
        assert unknown.status_code == 404 and "GET /api/v1/agents" in unknown.json()["message"]
        assert failure_rows(farm) == before
        cleared = farm.data("PATCH", f"/agents/{node}", as_="td", json={"suspect": False})
        assert cleared["suspect"] == ""
        lease = farm.lease(node)
        assert lease is not None and lease["job_id"] == job_id


def test_a_td_sets_a_nodes_pool_and_tags(
    tmp_path: Path,
) -> None:
    with serve_farm(tmp_path) as farm:
        node = farm.agent("node01")
        changed = farm.data(
            "PATCH", f"/agents/{node}", as_="td", json={"pool": "lighting", "tags": ["fast"]}
        )
        assert (changed["pool"], changed["tags"]) == ("lighting", ["fast"])
        listed = farm.agents()[node]
        assert (listed["pool"], listed["tags"]) == ("lighting", ["fast"])
