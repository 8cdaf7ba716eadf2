"""The one transition table of job and task states."""

from __future__ import annotations

import itertools

import pytest

from common.errors import IllegalStateChange
from common.states import (
    JOB_TRANSITIONS,
    TASK_TRANSITIONS,
    JobState,
    TaskState,
    can_move,
    check_job_move,
    task_states_from,
)


def test_finished_jobs_only_move_by_retry() -> None:
    assert JOB_TRANSITIONS[JobState.SUCCEEDED] == frozenset()
    assert JOB_TRANSITIONS[JobState.CANCELLED] == frozenset()
    # A retried job waits again when a job it depends on has not succeeded.
    assert JOB_TRANSITIONS[JobState.FAILED] == {JobState.QUEUED, JobState.WAITING}


def test_every_state_has_a_row() -> None:
    assert set(JOB_TRANSITIONS) == set(JobState)
    assert set(TASK_TRANSITIONS) == set(TaskState)


def test_task_cycle() -> None:
    path = [TaskState.QUEUED, TaskState.LEASED, TaskState.RUNNING, TaskState.DONE]
    assert all(can_move(a, b) for a, b in itertools.pairwise(path))
    assert not can_move(TaskState.DONE, TaskState.RUNNING)
    assert not can_move(TaskState.CANCELLED, TaskState.QUEUED)
    # A done task renders again only when its frames were lost on their way home.
    assert can_move(TaskState.DONE, TaskState.QUEUED)
    assert set(task_states_from(TaskState.QUEUED)) == {
        TaskState.LEASED, TaskState.RUNNING, TaskState.FAILED, TaskState.DONE,
        TaskState.SUSPENDED,
    }  # fmt: skip


def test_illegal_move_says_why() -> None:
    with pytest.raises(IllegalStateChange, match="Job 4 is succeeded and cannot become paused"):
        check_job_move(4, JobState.SUCCEEDED, JobState.PAUSED)
