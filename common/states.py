"""Job and task states, and the one table of transitions between them."""

from __future__ import annotations

from enum import StrEnum

from common.errors import IllegalStateChange


class JobState(StrEnum):
    """Where a job stands."""

    QUEUED = "queued"
    """Waiting for agents; no task has started yet (or all were requeued)."""
    WAITING = "waiting"
    """Waiting for the jobs it depends on (or held: one of them failed or was cancelled); its
    rank reason says which."""
    RUNNING = "running"
    """At least one task has started."""
    PAUSED = "paused"
    """No new task is handed out; running tasks finish."""
    SUCCEEDED = "succeeded"
    """Every task is done and every frame is on disk."""
    FAILED = "failed"
    """Every task ended and some failed for good (or more than ``max_failed_tasks`` did); the
    job's message names the failed frames."""
    CANCELLED = "cancelled"
    """Somebody cancelled it; running tasks were killed on their agents."""

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class TaskState(StrEnum):
    """Where one chunk of frames stands."""

    QUEUED = "queued"
    """Waiting for an agent."""
    LEASED = "leased"
    """Handed to an agent, which has not reported a start yet."""
    RUNNING = "running"
    """The agent's renderer is running."""
    DONE = "done"
    """Every frame of the chunk is on disk."""
    FAILED = "failed"
    """The last attempt failed and the retry budget is spent."""
    CANCELLED = "cancelled"
    """The job was cancelled."""
    SUSPENDED = "suspended"
    """Held back by hand: never handed out until somebody resumes it (it is not finished, so
    its job does not end while it waits)."""

    @property
    def finished(self) -> bool:
        return self in (TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED)


J, T = JobState, TaskState

JOB_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    J.QUEUED: frozenset({J.WAITING, J.RUNNING, J.PAUSED, J.CANCELLED, J.SUCCEEDED, J.FAILED}),
    J.WAITING: frozenset({J.QUEUED, J.RUNNING, J.PAUSED, J.CANCELLED, J.SUCCEEDED, J.FAILED}),
    J.RUNNING: frozenset({J.QUEUED, J.WAITING, J.PAUSED, J.SUCCEEDED, J.FAILED, J.CANCELLED}),
    J.PAUSED: frozenset({J.QUEUED, J.WAITING, J.RUNNING, J.CANCELLED, J.SUCCEEDED, J.FAILED}),
    J.FAILED: frozenset({J.QUEUED, J.WAITING}),  # retry failed tasks
    J.SUCCEEDED: frozenset(),
    J.CANCELLED: frozenset(),
}

TASK_TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    T.QUEUED: frozenset({T.LEASED, T.CANCELLED, T.SUSPENDED}),
    T.LEASED: frozenset({T.RUNNING, T.QUEUED, T.DONE, T.FAILED, T.CANCELLED}),
    T.RUNNING: frozenset({T.QUEUED, T.DONE, T.FAILED, T.CANCELLED}),
    T.FAILED: frozenset({T.QUEUED}),  # retry
    T.DONE: frozenset({T.QUEUED, T.FAILED}),  # its frames were lost on their way home
    T.CANCELLED: frozenset(),
    T.SUSPENDED: frozenset({T.QUEUED, T.CANCELLED}),  # resumed, or its job cancelled
}

del J, T


def can_move(current: JobState | TaskState, target: JobState | TaskState) -> bool:
    """Whether the transition table allows ``current -> target``."""
    table: dict = JOB_TRANSITIONS if isinstance(current, JobState) else TASK_TRANSITIONS
    return target in table[current]


def job_states_from(target: JobState) -> tuple[JobState, ...]:
    """Every job state from which ``target`` may be reached (for compare-and-set SQL)."""
    return tuple(s for s, targets in JOB_TRANSITIONS.items() if target in targets)


def task_states_from(target: TaskState) -> tuple[TaskState, ...]:
    """Every task state from which ``target`` may be reached (for compare-and-set SQL)."""
    return tuple(s for s, targets in TASK_TRANSITIONS.items() if target in targets)


def check_job_move(job_id: int, current: JobState, target: JobState) -> None:
    """Raises ``IllegalStateChange`` with a clear sentence when the move is not allowed."""
    if not can_move(current, target):
        raise IllegalStateChange(
            f"Job {job_id} is {current.value} and cannot become {target.value}."
            + (" A finished job can only be resubmitted." if current.finished else "")
        )
