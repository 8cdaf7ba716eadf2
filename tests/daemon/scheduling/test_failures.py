"""The failure policy: what one failure of each class does to a task, and a failed job's
closing sentence."""

from __future__ import annotations

import pytest

from common.models import FailureClass as F
from common.states import TaskState
from daemon.scheduling.failures import failed_job_message, frame_ranges, judge_failure

Q, X = TaskState.QUEUED, TaskState.FAILED


@pytest.mark.parametrize(
    ("error_class", "preempted", "failures", "bigger", "state", "spent", "against", "memory"),
    [
        (F.LICENCE, False, 3, False, Q, 3, False, False),  # at the limit: still no retry spent
        (F.MISSING_FILE, False, 0, False, X, 1, True, False),
        (F.BAD_SCENE, False, 0, False, X, 1, True, False),
        (F.OUT_OF_MEMORY, False, 0, True, Q, 1, True, True),
        (F.OUT_OF_MEMORY, False, 0, False, Q, 1, True, False),
        (F.OUT_OF_MEMORY, False, 3, True, X, 4, True, False),  # budget spent: no bigger node
        (F.CRASH, False, 2, False, Q, 3, True, False),
        (F.TIMEOUT, False, 3, False, X, 4, True, False),
        (F.STALLED, False, 0, False, Q, 1, True, False),
        (F.RENDER_ERROR, False, 0, False, Q, 1, True, False),
        (None, False, 0, False, Q, 1, True, False),
        (F.CRASH, True, 3, False, Q, 3, False, False),  # preempted: nothing spent, no blame
    ],
)  # fmt: skip
def test_each_class_of_failure(
    error_class: F | None, preempted: bool, failures: int, bigger: bool, state: TaskState,
    spent: int, against: bool, memory: bool,
) -> None:  # fmt: skip
    verdict = judge_failure(
        error_class, preempted=preempted, failures=failures, max_retries=3, now=1000.0,
        licence_wait_s=60, bigger_node_exists=bigger,
    )  # fmt: skip
    assert verdict.state is state
    assert verdict.failures == spent
    assert verdict.against_node is against
    assert verdict.bigger_node is memory
    assert verdict.not_before == (1060.0 if error_class is F.LICENCE else None)


def test_the_sentences_say_why() -> None:
    spent = judge_failure(F.CRASH, preempted=False, failures=1, max_retries=1, now=0,
                          licence_wait_s=0)  # fmt: skip
    assert spent.note == "(failed 2 time(s); the retry limit is 1)"
    wait = judge_failure(F.LICENCE, preempted=False, failures=0, max_retries=1, now=0,
                         licence_wait_s=120)  # fmt: skip
    assert wait.note == "(no licence was free: the task waits 120 s; no retry spent)"


def test_frames_read_as_runs() -> None:
    assert frame_ranges([9, 3, 7, 8]) == "3, 7-9"
    assert frame_ranges([1, 3, 5]) == "1, 3, 5"
    assert frame_ranges([-2, -1, 0, 10]) == "-2-0, 10"


def test_a_failed_jobs_message() -> None:
    assert failed_job_message([3], "Traceback\nValueError: bad node.\n\n") == (
        "Frame 3 failed: ValueError: bad node. `retry` renders it again."
    )
    assert failed_job_message([7, 8, 3], "boom", stopped_at=2) == (
        "Stopped early: 2 task(s) failed, the job's max_failed_tasks. Its other frames wait. "
        "Frames 3, 7-8 failed: boom. `retry` renders them again."
    )
    assert failed_job_message([1], "") == "Frame 1 failed: no error was reported. " + (
        "`retry` renders it again."
    )
