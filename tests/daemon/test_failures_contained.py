"""Failures contained, over real HTTP: a frame failing for good lets the others render, each
failure class gets its treatment, and ``max_failed_tasks`` stops a clearly broken job early."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemon.farm_http import Farm, serve_farm


@pytest.fixture
def farm(tmp_path: Path) -> Farm:
    with serve_farm(tmp_path) as served:
        yield served


def test_a_frame_failing_for_good_lets_the_other_three_render_and_the_job_names_it(
    farm: Farm,
) -> None:
    job_id = farm.submit(frames="1-4", chunk_size=1, max_retries=1)
    node = farm.agent("node01")
    states = []
    while (lease := farm.lease(node)) is not None:
        if lease["frames"] == [3]:
            assert farm.fail(node, lease, "Error: shader compile failed").status_code == 200
        else:
            assert farm.complete(node, lease).status_code == 200
        states.append(farm.job(job_id)["state"])
    job = farm.job(job_id)
    assert "failed" not in states[:-1]  # the job went on while frame 3 failed
    assert job["state"] == "failed"
    assert job["task_counts"]["done"] == 3 and job["task_counts"]["failed"] == 1
    assert job["failed_frames"] == [3]
    assert job["message"].startswith("Frame 3 failed: Error: shader compile failed")
    assert job["message"].endswith("`retry` renders it again.")
    assert job["error_classes"] == {"render_error": 1}
    failed = [task for task in farm.tasks(job_id) if task["state"] == "failed"]
    assert [task["error_class"] for task in failed] == ["render_error"]
    # retry renders frame 3 again, and the job succeeds
    retried = farm.data("POST", f"/jobs/{job_id}/retry")
    assert retried["state"] == "running" and retried["failed_frames"] == []
    lease = farm.lease(node)
    assert lease is not None and lease["frames"] == [3] and lease["attempt"] == 3
    assert farm.complete(node, lease).status_code == 200
    job = farm.job(job_id)
    assert job["state"] == "succeeded" and job["error_classes"] == {}


def test_frames_that_failed_are_named_as_ranges(tmp_path: Path) -> None:
    # one node fails four tasks of the job: it must not be kept off it before the fourth
    with serve_farm(tmp_path, node_failures_per_job=10) as farm:
        job_id = farm.submit(frames="1-9", chunk_size=1, max_retries=0)
        node = farm.agent("node01")
        while (lease := farm.lease(node)) is not None:
            if lease["frames"][0] in (3, 7, 8, 9):
                farm.fail(node, lease, f"frame {lease['frames'][0]} exploded", "crash")
            else:
                farm.complete(node, lease)
        job = farm.job(job_id)
    assert job["failed_frames"] == [3, 7, 8, 9]
    assert job["message"].startswith("Frames 3, 7-9 failed: frame 3 exploded")
    assert job["message"].endswith("`retry` renders them again.")
    assert job["error_classes"] == {"crash": 4}


def test_a_licence_error_requeues_without_spending_a_retry_after_the_wait(
    tmp_path: Path,
) -> None:
    # node_failures_per_job=1: had the licence error counted against the node, it would be
    # kept off the job and never lease it again.
    with serve_farm(tmp_path, licence_wait_s=120, node_failures_per_job=1) as farm:
        job_id = farm.submit(frames="1", max_retries=0)
        node = farm.agent("node01")
        lease = farm.lease(node)
        assert lease is not None
        answer = farm.fail(node, lease, "Arnold: no license available", "licence")
        assert answer.status_code == 200
        task = farm.tasks(job_id)[0]
        assert task["state"] == "queued" and task["error_class"] == "licence"
        assert "no retry spent" in task["error"]
        assert farm.job(job_id)["state"] != "failed"
        assert farm.job(job_id)["error_classes"] == {"licence": 1}
        farm.clock.advance(119)
        assert farm.lease(node) is None  # still waiting out the licence wait
        farm.clock.advance(2)
        again = farm.lease(node)
        assert again is not None and again["task_id"] == lease["task_id"]
        assert again["attempt"] == 2
        # max_retries=0 and the retry budget untouched: the next real error fails it
        farm.fail(node, again, "Segmentation fault", "crash")
        assert farm.tasks(job_id)[0]["state"] == "failed"


@pytest.mark.parametrize("error_class", ["missing_file", "bad_scene"])
def test_a_missing_file_or_bad_scene_fails_at_once(farm: Farm, error_class: str) -> None:
    job_id = farm.submit(frames="1-2", chunk_size=1, max_retries=5)
    node = farm.agent("node01")
    lease = farm.lease(node)
    assert lease is not None
    farm.fail(node, lease, "Cannot open /proj/tex/wall.exr", error_class)
    task = farm.tasks(job_id)[0]
    assert task["state"] == "failed" and task["attempts"] == 1
    assert task["error_class"] == error_class and "not retried" in task["error"]
    second = farm.lease(node)
    assert second is not None and second["frames"] == [2]  # never frame 1 again
    farm.complete(node, second)
    job = farm.job(job_id)
    assert job["state"] == "failed" and job["failed_frames"] == [1]
    assert "Cannot open /proj/tex/wall.exr" in job["message"]


@pytest.mark.parametrize("error_class", ["crash", "timeout", "stalled", "render_error", None])
def test_other_failures_spend_one_retry_each(farm: Farm, error_class: str | None) -> None:
    job_id = farm.submit(frames="1", max_retries=1)
    node = farm.agent("node01")
    first = farm.lease(node)
    assert first is not None
    farm.fail(node, first, "render stopped", error_class)
    task = farm.tasks(job_id)[0]
    assert task["state"] == "queued" and task["error_class"] == (error_class or "render_error")
    second = farm.lease(node)
    assert second is not None and second["attempt"] == 2
    farm.fail(node, second, "render stopped again", error_class)
    assert farm.tasks(job_id)[0]["state"] == "failed"
    assert farm.job(job_id)["state"] == "failed"


@pytest.mark.parametrize("max_failed", ["50%", 2])
def test_max_failed_tasks_stops_the_job_early_and_retry_resumes_it(
    farm: Farm, max_failed: str | int
) -> None:
    job_id = farm.submit(frames="1-4", chunk_size=1, max_retries=0, max_failed_tasks=max_failed)
    breaking, busy = farm.agent("breaking"), farm.agent("busy")
    first = farm.lease(breaking)
    held = farm.lease(busy)
    assert first is not None and held is not None
    farm.fail(breaking, first, "scene is broken", "crash")
    assert farm.job(job_id)["state"] == "running"  # one failed: not yet the limit
    second = farm.lease(breaking)
    assert second is not None
    farm.fail(breaking, second, "scene is broken", "crash")
    job = farm.job(job_id)
    assert job["state"] == "failed"
    assert job["message"].startswith("Stopped early: 2 task(s) failed")
    assert job["task_counts"]["failed"] == 2 and job["task_counts"]["queued"] == 2
    # the task out on the busy node came back, no retry spent; that node learns it
    beat = farm.data("POST", f"/agents/{busy}/heartbeat", json={"task_ids": [held["task_id"]]})
    assert beat["cancel"] == [held["task_id"]]
    assert farm.complete(busy, held).status_code == 409
    assert farm.lease(busy) is None  # a failed job hands out nothing
    # retry puts the failed tasks back and the job goes on to the end
    assert farm.data("POST", f"/jobs/{job_id}/retry")["state"] == "queued"
    rendered = []
    while (lease := farm.lease(busy)) is not None:
        assert farm.complete(busy, lease).status_code == 200
        rendered += lease["frames"]
    assert sorted(rendered) == [1, 2, 3, 4]
    assert farm.job(job_id)["state"] == "succeeded"
