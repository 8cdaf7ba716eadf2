"""What a task's failure leads to, and the sentence a failed job ends with: pure policy.

The agent classifies each failure from its runner's log and exit (``FailureClass``); this
module decides, for one failure, whether the task goes back to the queue or fails for good,
whether a retry is spent, whether it waits before it may be leased again, whether it needs a
node with more memory, and whether the failure counts against the node. ``now`` is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.models import FailureClass
from common.states import TaskState

#: Failures that no other attempt can fix: the task fails at once, no retries burnt.
FAIL_AT_ONCE = frozenset({FailureClass.MISSING_FILE, FailureClass.BAD_SCENE})


@dataclass(frozen=True)
class FailureVerdict:
    """What to do with a task after one failure."""

    state: TaskState
    """``queued`` (it runs again) or ``failed`` (for good; ``retry`` puts it back)."""
    failures: int
    """The failures counted against the task's retry budget, this one included."""
    note: str
    """Said after the agent's error on the task (why it runs again or not)."""
    not_before: float | None = None
    """A licence wait: the task is not leased again before this time."""
    bigger_node: bool = False
    """Out of memory with a bigger node on the farm: only a node with more memory takes it."""
    against_node: bool = False
    """The failure counts against the node (kept off the job, suspect after many in a row)."""


def judge_failure(
    error_class: FailureClass | None,
    *,
    preempted: bool,
    failures: int,
    max_retries: int,
    now: float,
    licence_wait_s: float,
    bigger_node_exists: bool = False,
) -> FailureVerdict:
    """The verdict on one failure of a task that had failed ``failures`` times before.

    A preempted node (the cloud took it back) spends nothing and counts against nobody. No
    free licence requeues the task after ``licence_wait_s``, with no retry spent and nothing
    against the node. A missing file or a scene that cannot load fails the task at once. Out
    of memory spends a retry and, when ``bigger_node_exists``, asks for a bigger node. Every
    other failure (crash, timeout, stall, a render error, an unclassified one: None) spends a
    retry; past ``max_retries`` the task fails for good.
    """
    if preempted:
        return FailureVerdict(TaskState.QUEUED, failures, "(the node went away; no retry spent)")
    if error_class is FailureClass.LICENCE:
        return FailureVerdict(
            TaskState.QUEUED, failures,
            f"(no licence was free: the task waits {licence_wait_s:g} s; no retry spent)",
            not_before=now + licence_wait_s,
        )  # fmt: skip
    spent = failures + 1
    if error_class in FAIL_AT_ONCE:
        note = f"({error_class.value}: not retried; fix the scene or its files, then `retry`)"
        return FailureVerdict(TaskState.FAILED, spent, note, against_node=True)
    if spent > max_retries:
        note = f"(failed {spent} time(s); the retry limit is {max_retries})"
        return FailureVerdict(TaskState.FAILED, spent, note, against_node=True)
    if error_class is FailureClass.OUT_OF_MEMORY and bigger_node_exists:
        note = "(out of memory: it runs again on a node with more memory)"
        return FailureVerdict(TaskState.QUEUED, spent, note, bigger_node=True, against_node=True)
    note = f"(failed {spent} time(s); it runs again, up to {max_retries} retries)"
    return FailureVerdict(TaskState.QUEUED, spent, note, against_node=True)


def failed_job_message(
    frames: Sequence[int], first_error: str, *, stopped_at: int | None = None
) -> str:
    """The sentence a failed job ends with: which frames failed and the first error.

    ``stopped_at``: the job stopped early at its ``max_failed_tasks`` (that many tasks failed).
    """
    spec = frame_ranges(frames)
    error = last_line(first_error)
    several = len(frames) != 1
    text = (
        f"{'Frames' if several else 'Frame'} {spec} failed: {error.rstrip('.')}. "
        f"`retry` renders {'them' if several else 'it'} again."
    )
    if stopped_at is not None:
        text = (
            f"Stopped early: {stopped_at} task(s) failed, the job's max_failed_tasks. "
            "Its other frames wait. " + text
        )
    return text


def last_line(error: str, most: int = 300) -> str:
    """The last line of an error that says something (a log's tail ends with the reason)."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    return lines[-1][:most] if lines else "no error was reported"


def frame_ranges(frames: Sequence[int]) -> str:
    """Frames as people read them: runs of consecutive frames (``3, 7-9``)."""
    runs: list[list[int]] = []
    for frame in sorted(set(frames)):
        if runs and frame == runs[-1][-1] + 1:
            runs[-1].append(frame)
        else:
            runs.append([frame])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)
