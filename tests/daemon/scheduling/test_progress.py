"""A job's state from its tasks: failures contained, early stops, waiting for dependencies."""

from __future__ import annotations

import pytest

from common.states import JobState
from daemon.scheduling.progress import derive_job_state, failed_limit

J = JobState


def test_a_failed_task_lets_the_others_run() -> None:
    counts = {"failed": 1, "queued": 2, "done": 1}
    assert derive_job_state(J.RUNNING, counts) is J.RUNNING
    assert derive_job_state(J.RUNNING, {"failed": 1, "running": 1, "done": 2}) is J.RUNNING


def test_the_job_fails_once_every_task_ended_with_one_failed() -> None:
    assert derive_job_state(J.RUNNING, {"failed": 1, "done": 3}) is J.FAILED
    # frames still on their way home keep it running until they land
    assert derive_job_state(J.RUNNING, {"failed": 1, "done": 3}, frames_away=2) is J.RUNNING


def test_all_done_succeeds() -> None:
    assert derive_job_state(J.RUNNING, {"done": 4}) is J.SUCCEEDED


def test_the_failed_limit_stops_a_job_early() -> None:
    counts = {"failed": 2, "queued": 8}
    assert derive_job_state(J.RUNNING, counts, failed_limit=2) is J.FAILED
    assert derive_job_state(J.RUNNING, counts, failed_limit=3) is J.RUNNING


def test_waiting_holds_a_job_with_nothing_out() -> None:
    assert derive_job_state(J.QUEUED, {"queued": 3}, waiting=True) is J.WAITING
    assert derive_job_state(J.WAITING, {"queued": 3}) is J.QUEUED
    # a task already on a node finishes its run; the job runs meanwhile
    assert derive_job_state(J.WAITING, {"queued": 2, "running": 1}, waiting=True) is J.RUNNING


def test_paused_and_cancelled_stay() -> None:
    assert derive_job_state(J.PAUSED, {"queued": 3}, waiting=True) is J.PAUSED
    assert derive_job_state(J.CANCELLED, {"done": 3}) is J.CANCELLED


@pytest.mark.parametrize(
    ("limit", "tasks", "count"),
    [(None, 10, None), (3, 10, 3), ("10%", 50, 5), ("10%", 3, 1), ("34%", 10, 4), ("100%", 7, 7)],
)
def test_failed_limit(limit: int | str | None, tasks: int, count: int | None) -> None:
    assert failed_limit(limit, tasks) == count
