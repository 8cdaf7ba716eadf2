"""The lease query matches a node to the jobs it may take, in SQL: requirements, kept-off
nodes, full limits and ready tasks (licence waits, memory, frame dependencies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from common.frames import chunk_frames, parse_frames
from common.models import AgentRegistration, Gpu, JobSpec, Requirements
from common.states import TaskState
from daemon.storage import agents as agent_store
from daemon.storage import jobs as job_store
from daemon.storage import limits as limit_store
from daemon.storage import open_database
from daemon.storage import queue as queue_store
from daemon.storage import tasks as task_store


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return open_database(tmp_path / "db.sqlite3").db


def _agent(db: sqlite_utils.Database, agent_id: str, **facts: Any) -> queue_store.NodeFacts:
    facts = {"name": agent_id, "hostname": "h", "dccs": ["blender"], **facts}
    agent_store.insert_agent(db, agent_id, AgentRegistration(**facts), 0.0)
    row = agent_store.get_agent(db, agent_id)
    assert row is not None
    return queue_store.NodeFacts.of(row)


def _job(db: sqlite_utils.Database, frames: str = "1-2", **spec: Any) -> int:
    job = JobSpec(name="j", owner="o", scene="/s.blend", frames=frames, output="/o/f_####", **spec)
    job_id = job_store.insert_job(db, job, chunk_frames(parse_frames(frames), 1), 0.0)
    db.execute(
        "INSERT INTO job_ranks (job_id, sort_key, submitted_at, score, ranked_at)"
        " VALUES (?, ?, 0, 0, 0)",
        [job_id, job_id],
    )
    return job_id


def _candidates(db: sqlite_utils.Database, node: queue_store.NodeFacts, **kw: Any) -> list[int]:
    return queue_store.queue_candidates(db, node, 50, now=kw.pop("now", 100.0), **kw)


def test_requirements_are_matched_against_the_node(db: sqlite_utils.Database) -> None:
    cpu = _agent(db, "cpu", memory_mb=8000, os="linux", tags=["nvme"])
    gpu = _agent(
        db, "gpu", memory_mb=64000, os="linux", pool="lighting", tags=["nvme", "fast"],
        gpus=[Gpu(model="RTX A6000", memory_mb=49140)], dcc_versions={"blender": "4.2.3"},
    )  # fmt: skip
    anything = _job(db)
    needs_gpu = _job(db, requirements=Requirements(gpus=1, min_gpu_memory_mb=40000))
    big_gpu = _job(db, requirements=Requirements(gpus=1, min_gpu_memory_mb=80000))
    pool = _job(db, requirements=Requirements(pool="lighting"))
    windows = _job(db, requirements=Requirements(os="windows"))
    memory = _job(db, requirements=Requirements(min_memory_mb=32000))
    tags = _job(db, requirements=Requirements(tags=["fast", "nvme"]))
    release = _job(db, requirements=Requirements(dcc_version="4.2"))
    exact = _job(db, requirements=Requirements(dcc_version="4.2.3"))
    other = _job(db, requirements=Requirements(dcc_version="4.1"))
    prefix_only = _job(db, requirements=Requirements(dcc_version="4.2.30"))

    assert _candidates(db, cpu) == [anything]
    assert _candidates(db, gpu) == [anything, needs_gpu, pool, memory, tags, release, exact]
    assert {big_gpu, windows, other, prefix_only}.isdisjoint(_candidates(db, gpu))


def test_a_version_prefix_is_a_release_not_a_string_prefix(db: sqlite_utils.Database) -> None:
    node = _agent(db, "n", dcc_versions={"blender": "4.21"})
    _job(db, requirements=Requirements(dcc_version="4.2"))
    assert _candidates(db, node) == []


def test_a_kept_off_node_gets_nothing_of_that_job(db: sqlite_utils.Database) -> None:
    node = _agent(db, "n")
    first, second = _job(db), _job(db)
    db.execute(
        "INSERT INTO node_job_failures (job_id, agent_id, failures, kept_off, last_at)"
        " VALUES (?, 'n', 3, 1, 0)",
        [first],
    )
    assert _candidates(db, node) == [second]
    assert _candidates(db, _agent(db, "other")) == [first, second]


def test_a_full_limit_holds_its_jobs(db: sqlite_utils.Database) -> None:
    node = _agent(db, "n")
    busy = _agent(db, "busy")
    maya = _job(db, limits=["maya"])
    free = _job(db)
    limit_store.put_limit(db, "maya", 1, False, 0.0, "td")
    assert limit_store.full_limits(db, node.agent_id) == []
    assert task_store.claim_first_queued(db, maya, busy.agent_id, 999.0, now=1.0) is not None
    full = limit_store.full_limits(db, node.agent_id)
    assert full == ["maya"]
    assert _candidates(db, node, full_limits=full) == [free]
    listed = limit_store.list_limits(db)
    assert [(row["name"], row["in_use"]) for row in listed] == [("maya", 1)]


def test_a_per_node_limit_counts_the_asking_node_only(db: sqlite_utils.Database) -> None:
    a, b = _agent(db, "a"), _agent(db, "b")
    job = _job(db, frames="1-4", limits=["gpu"])
    limit_store.put_limit(db, "gpu", 1, True, 0.0, "td")
    assert task_store.claim_first_queued(db, job, a.agent_id, 999.0, now=1.0) is not None
    assert limit_store.full_limits(db, a.agent_id) == ["gpu"]
    assert limit_store.full_limits(db, b.agent_id) == []


def test_a_unit_comes_back_when_its_task_leaves_the_node(db: sqlite_utils.Database) -> None:
    node = _agent(db, "n")
    job = _job(db, limits=["nuke"])
    limit_store.put_limit(db, "nuke", 1, False, 0.0, "td")
    task = task_store.claim_first_queued(db, job, node.agent_id, 999.0, now=1.0)
    assert task is not None and limit_store.full_limits(db, "n") == ["nuke"]
    task_store.move_task(db, task["id"], TaskState.QUEUED, agent_id=None)
    assert limit_store.full_limits(db, "n") == []


def test_licence_waits_and_memory_keep_tasks_back(db: sqlite_utils.Database) -> None:
    small = _agent(db, "small", memory_mb=8000)
    big = _agent(db, "big", memory_mb=64000)
    job = _job(db, frames="1")
    (task,) = task_store.list_tasks(db, job)
    db.execute("UPDATE tasks SET not_before = 150 WHERE id = ?", [task["id"]])
    assert _candidates(db, small, now=100.0) == []
    assert _candidates(db, small, now=150.0) == [job]
    db.execute("UPDATE tasks SET min_memory_mb = 8001 WHERE id = ?", [task["id"]])
    assert _candidates(db, small, now=200.0) == []
    assert _candidates(db, big, now=200.0) == [job]
    assert task_store.claim_first_queued(db, job, "small", 999.0, now=200.0, memory_mb=8000) is None
    claimed = task_store.claim_first_queued(db, job, "big", 999.0, now=200.0, memory_mb=64000)
    assert claimed is not None and claimed["id"] == task["id"]


def _edge(db: sqlite_utils.Database, task_id: int, upstream: int) -> None:
    db.execute(
        "INSERT INTO task_dependencies (task_id, upstream_task_id) VALUES (?, ?)",
        [task_id, upstream],
    )


def test_a_task_waits_for_the_tasks_holding_its_frames(db: sqlite_utils.Database) -> None:
    node = _agent(db, "n")
    upstream = _job(db, frames="1-2")
    downstream = _job(db, frames="1-2")
    up1, up2 = (t["id"] for t in task_store.list_tasks(db, upstream))
    down1, down2 = (t["id"] for t in task_store.list_tasks(db, downstream))
    _edge(db, down1, up1)
    _edge(db, down2, up2)
    db.execute("UPDATE tasks SET state = 'leased' WHERE job_id = ?", [upstream])
    assert _candidates(db, node) == []
    assert queue_store.queue_ids(db) == []
    db.execute("UPDATE tasks SET state = 'done' WHERE id = ?", [up2])
    assert _candidates(db, node) == [downstream]
    claimed = task_store.claim_first_queued(db, downstream, "n", 999.0, now=100.0)
    assert claimed is not None and claimed["id"] == down2  # frame 2 first: frame 1 still waits


def test_a_split_task_keeps_its_dependencies_both_ways(db: sqlite_utils.Database) -> None:
    upstream = _job(db, frames="1-4")
    downstream = _job(db, frames="1-4")
    db.execute("DELETE FROM tasks WHERE job_id IN (?, ?)", [upstream, downstream])
    for job_id in (upstream, downstream):
        db.execute(
            "INSERT INTO tasks (job_id, idx, frames, frame_count, state) VALUES (?, 0, ?, 4,"
            " 'queued')",
            [job_id, json.dumps([1, 2, 3, 4])],
        )
    (up,) = task_store.list_tasks(db, upstream)
    (down,) = task_store.list_tasks(db, downstream)
    _edge(db, down["id"], up["id"])
    assert task_store.split_queued(db, up["id"], 2)
    assert task_store.split_queued(db, down["id"], 2)
    up_tail = task_store.list_tasks(db, upstream)[1]["id"]
    down_tail = task_store.list_tasks(db, downstream)[1]["id"]
    edges = set(db.conn.execute("SELECT task_id, upstream_task_id FROM task_dependencies"))
    assert edges == {
        (down["id"], up["id"]), (down["id"], up_tail),
        (down_tail, up["id"]), (down_tail, up_tail),
    }  # fmt: skip
