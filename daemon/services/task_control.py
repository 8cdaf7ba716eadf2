"""What people do to one task of a job: retry it, requeue it, suspend it, resume it.

Each action is a compare-and-set through the one transition table (``storage/tasks.py``
``move_task``), in one transaction with the settling of the task's job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from common.errors import IllegalStateChange, NotFound
from common.models import Task, TaskAction
from common.states import JobState, TaskState
from daemon.context import Context
from daemon.services.jobs import JobService, task_from_row
from daemon.storage import jobs as job_store
from daemon.storage import tasks as task_store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Move:
    """One action: the states it starts from, where it leads, the columns it resets, and
    the words a refusal uses."""

    sources: tuple[TaskState, ...]
    target: TaskState
    fields: dict[str, Any]
    only: str
    """What the action takes: ``a failed task``."""
    verb: str
    """The action in a sentence: ``retried``."""


_RELEASED = {"agent_id": None, "lease_expires_at": None, "progress": 0}
"""A task no agent holds any more (the agent stops it at its next heartbeat)."""

MOVES: dict[TaskAction, _Move] = {
    TaskAction.RETRY: _Move(
        (TaskState.FAILED,), TaskState.QUEUED, {**_RELEASED, "failures": 0, "finished_at": None},
        "a failed task", "retried",
    ),
    TaskAction.REQUEUE: _Move(
        (TaskState.LEASED, TaskState.RUNNING), TaskState.QUEUED, _RELEASED,
        "a leased or running task", "requeued",
    ),
    TaskAction.SUSPEND: _Move(
        (TaskState.QUEUED,), TaskState.SUSPENDED, {}, "a queued task", "suspended",
    ),
    TaskAction.RESUME: _Move(
        (TaskState.SUSPENDED,), TaskState.QUEUED, {}, "a suspended task", "resumed",
    ),
}  # fmt: skip
"""Every action a person may take on one task (the transition table allows each move)."""

_HINTS = {
    TaskState.FAILED: "retry it",
    TaskState.LEASED: "requeue it",
    TaskState.RUNNING: "requeue it",
    TaskState.QUEUED: "suspend it",
    TaskState.SUSPENDED: "resume it",
}
"""What can be done to a task in each state, for a refusal's sentence."""


class TaskControl:
    """Per-task actions of the job page, the API and the CLI (owner or ``jobs.manage``: the
    API guard decides who; this decides what)."""

    def __init__(self, context: Context, jobs: JobService) -> None:
        self.ctx = context
        self.jobs = jobs

    def act(self, job_id: int, task_id: int, action: TaskAction) -> Task:
        """Applies ``action`` to the job's task and settles the job; returns the task.

        A retried task gets a fresh retry budget (and reopens its failed job); a requeued one
        spends no retry; a suspended one is never handed out until it is resumed.

        Raises:
            NotFound: no such job, or the job has no such task.
            IllegalStateChange: the job has ended (cancelled or succeeded; or failed, except
                to retry a task), or the task is not in a state the action starts from, or it
                changed while the action ran.
        """
        move = MOVES[action]
        with self.ctx.database.transaction() as db:
            job = JobState(job_store.require_job(db, job_id)["state"])
            task = task_store.named_task(db, job_id, task_id)
            if task is None:
                raise NotFound(
                    f"Job {job_id} has no task {task_id}. List its tasks with "
                    f"`cloudburst job show {job_id}`."
                )
            label = task_from_row(task).label
            _check_job(job_id, job, action, label)
            state = TaskState(task["state"])
            if state not in move.sources:
                hint = _HINTS.get(state)
                raise IllegalStateChange(
                    f"{label.capitalize()} of job {job_id} is {state.value}; only {move.only} "
                    f"can be {move.verb}" + (f" (you can {hint})." if hint else ".")
                )
            moved = task_store.move_task(
                db, task_id, move.target, expect=[state], attempt=task["attempts"], **move.fields
            )
            if not moved:
                raise IllegalStateChange(
                    f"{label.capitalize()} of job {job_id} changed while you asked; look at it "
                    "again and retry."
                )
            job_state = self.jobs.reopen(db, job_id)
            row = task_store.named_task(db, job_id, task_id)
        logger.info(
            "job_id=%s task_id=%s %s (%s -> %s); job is %s",
            job_id, task_id, move.verb, state.value, move.target.value, job_state.value,
        )  # fmt: skip
        assert row is not None  # the same transaction just moved it
        return task_from_row(row)


def _check_job(job_id: int, state: JobState, action: TaskAction, label: str) -> None:
    """A finished job's tasks do not move, but for retrying a failed job's failed task."""
    if not state.finished or (action is TaskAction.RETRY and state is JobState.FAILED):
        return
    raise IllegalStateChange(
        f"Job {job_id} is {state.value}, so its {label} cannot be {MOVES[action].verb}. "
        + (
            f"Retry its failed tasks first (`cloudburst job retry {job_id}`)."
            if state is JobState.FAILED
            else f"Resubmit it instead (`cloudburst job resubmit {job_id}`)."
        )
    )
