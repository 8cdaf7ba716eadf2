"""Failures contained: what a failed task does to itself, its job's nodes and its node.

A task that failed goes back to the queue or fails for good as ``scheduling/failures.py``
judges from its class; the failure counts against the node that failed it, which is kept off
the job after ``[failures] node_failures_per_job`` failures of it and marked suspect (it leases
nothing) after ``node_failures_in_a_row`` failed tasks in a row. TDs list and clear both.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlite_utils

from common.errors import NotFound
from common.models import FailureClass, KeptOffNode, TaskFailure
from common.states import TaskState
from daemon.context import Context
from daemon.scheduling.failures import FailureVerdict, judge_failure, last_line
from daemon.services.notifications import job_needs_attention
from daemon.storage import agents as agent_store
from daemon.storage import data as data_store
from daemon.storage import jobs as job_store
from daemon.storage import node_failures as node_store
from daemon.storage import tasks as task_store

logger = logging.getLogger(__name__)


class FailureService:
    """Applies the failure policy (in the callers' transactions) and lets TDs undo its marks."""

    def __init__(self, context: Context) -> None:
        self.ctx = context
        self.settings = context.settings.failures

    def task_failed(
        self,
        db: sqlite_utils.Database,
        agent: dict[str, Any],
        task: dict[str, Any],
        failure: TaskFailure,
        now: float,
    ) -> TaskState:
        """The agent's report that ``task`` failed on it (in a transaction); returns the
        task's new state. An unclassified failure is a render error."""
        spec = job_store.job_spec(job_store.require_job(db, task["job_id"]))
        error_class = None
        if not failure.preempted:
            error_class = failure.error_class or FailureClass.RENDER_ERROR
        bigger = error_class is FailureClass.OUT_OF_MEMORY and agent_store.has_bigger_node(
            db, task["job_id"], spec.dcc, agent["memory_mb"]
        )
        verdict = judge_failure(
            error_class, preempted=failure.preempted, failures=task["failures"],
            max_retries=spec.max_retries, now=now, licence_wait_s=self.settings.licence_wait_s,
            bigger_node_exists=bigger,
        )  # fmt: skip
        extra: dict[str, Any] = {"not_before": verdict.not_before}
        if verdict.bigger_node:  # the lease's READY clause then sends it to a bigger node only
            extra["min_memory_mb"] = agent["memory_mb"] + 1
        error = f"{failure.error} {verdict.note}"
        _move(db, task, verdict, error, error_class.value if error_class else "", now, extra)
        if verdict.against_node:
            self._count_against(db, agent, task["job_id"], failure.error, now)
        if verdict.state is TaskState.FAILED:
            job_needs_attention(
                db, self.ctx.settings, task["job_id"],
                f"task {task['id']} failed for good on {agent['name']}: {last_line(error)}", now,
            )  # fmt: skip
        return verdict.state

    def kept_off(self, job_id: int) -> list[KeptOffNode]:
        """The nodes kept off the job after failing it too often.

        Raises:
            NotFound: there is no such job.
        """
        db = self.ctx.database.db
        job_store.require_job(db, job_id)
        return [KeptOffNode.model_validate(row) for row in node_store.kept_off(db, job_id)]

    def clear_kept_off(self, job_id: int, agent_id: str, by: str) -> None:
        """Lets the node take the job's tasks again (its count starts afresh).

        Raises:
            NotFound: there is no such job, or the node is not kept off it.
        """
        with self.ctx.database.transaction() as db:
            job_store.require_job(db, job_id)
            if not node_store.clear(db, job_id, agent_id):
                raise NotFound(
                    f"Agent {agent_id} is not kept off job {job_id}; GET "
                    f"/api/v1/jobs/{job_id}/kept-off lists the nodes that are."
                )
        logger.info("agent_id=%s may take job_id=%s again (cleared by %s)", agent_id, job_id, by)

    def _count_against(
        self, db: sqlite_utils.Database, agent: dict[str, Any], job_id: int, error: str, now: float
    ) -> None:
        """Counts a failure against the node: for the job, and in a row."""
        agent_id = agent["id"]
        last = last_line(error)
        per_job = self.settings.node_failures_per_job
        failures, kept_off = node_store.count_failure(db, job_id, agent_id, last, now, per_job)
        if kept_off and failures == per_job:
            logger.warning(
                "agent_id=%s kept off job_id=%s after failing it %d times; last: %s",
                agent_id, job_id, failures, last,
            )  # fmt: skip
        in_a_row = agent_store.count_failure_in_a_row(db, agent_id)
        if in_a_row >= self.settings.node_failures_in_a_row and not agent["suspect"]:
            agent_store.set_suspect(db, agent_id, f"failed {in_a_row} tasks in a row; last: {last}")
            job_needs_attention(
                db, self.ctx.settings, job_id,
                f"node {agent['name']} failed {in_a_row} tasks in a row and takes no more work "
                f"until a TD clears it; last: {last}", now,
            )  # fmt: skip
            logger.warning(
                "agent_id=%s marked suspect: failed %d tasks in a row; it leases nothing until "
                "a TD clears it; last: %s", agent_id, in_a_row, last,
            )  # fmt: skip


def requeue_failed_task(
    db: sqlite_utils.Database,
    task: dict[str, Any],
    error: str,
    now: float,
    max_retries: int,
    *,
    spend_budget: bool,
) -> TaskState:
    """Puts an abandoned task (its node went silent, its frames were lost) back in the queue,
    or fails it when its budget is spent; no failure class, nothing against a node."""
    verdict = judge_failure(
        None, preempted=not spend_budget, failures=task["failures"], max_retries=max_retries,
        now=now, licence_wait_s=0,
    )  # fmt: skip
    if verdict.state is TaskState.FAILED:
        error = f"{error} {verdict.note}"
    _move(db, task, verdict, error, "", now, {})
    return verdict.state


def requeue_lost_task(
    db: sqlite_utils.Database, task: dict[str, Any], error: str, now: float
) -> TaskState:
    """A done task whose frames were lost on their way home renders again (spending a retry)."""
    job = job_store.require_job(db, task["job_id"])
    max_retries = job_store.job_spec(job).max_retries
    target = requeue_failed_task(db, task, error, now, max_retries, spend_budget=True)
    job_store.add_rendered(db, task["job_id"], -task["frame_count"], -(task["duration_s"] or 0.0))
    if target is TaskState.QUEUED:
        data_store.drop_task_outputs(db, task["id"])
    return target


def _move(
    db: sqlite_utils.Database,
    task: dict[str, Any],
    verdict: FailureVerdict,
    error: str,
    error_class: str,
    now: float,
    extra: dict[str, Any],
) -> None:
    failed = verdict.state is TaskState.FAILED
    task_store.move_task(
        db, task["id"], verdict.state, expect=[task["state"]],
        failures=verdict.failures, error=error[-4000:], error_class=error_class, agent_id=None,
        lease_expires_at=None, finished_at=now if failed else None, **extra,
    )  # fmt: skip
