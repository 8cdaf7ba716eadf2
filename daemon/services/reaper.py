"""Takes back the leases of agents that stopped answering."""

from __future__ import annotations

import logging

from common.states import TaskState
from daemon.context import Context
from daemon.services.failures import requeue_failed_task
from daemon.services.group_commit import GroupCommit
from daemon.services.jobs import JobService
from daemon.storage import agents as agent_store
from daemon.storage import jobs as job_store
from daemon.storage import tasks as task_store

logger = logging.getLogger(__name__)


class Reaper:
    """Requeues tasks whose lease expired; triggered by APScheduler in the daemon process."""

    def __init__(
        self, context: Context, jobs: JobService, group: GroupCommit | None = None
    ) -> None:
        self.ctx = context
        self.jobs = jobs
        self.group = group
        """Agents' writes not yet committed: flushed first, so a renewal just sent counts."""

    def reap(self, now: float | None = None) -> int:
        """One pass at time ``now``; returns how many tasks were taken back.

        A task that was running counts against its job's retry budget (the scene may be what
        kills the node); one only leased, never started, does not.
        """
        now = self.ctx.now() if now is None else now
        if self.group is not None:
            self.group.flush()
        taken = 0
        with self.ctx.database.transaction() as db:
            for task in task_store.expired_leases(db, now):
                spec = job_store.job_spec(task, "job_spec")
                started = task["state"] == TaskState.RUNNING.value
                target = requeue_failed_task(
                    db, task,
                    f"Agent {task['agent_id']} stopped answering; its lease expired.",
                    now, spec.max_retries, spend_budget=started,
                )  # fmt: skip
                self.jobs.settle(db, task["job_id"])
                taken += 1
                logger.warning(
                    "task_id=%s of job_id=%s: lease of agent_id=%s expired; now %s",
                    task["id"], task["job_id"], task["agent_id"], target.value,
                )  # fmt: skip
            agent_store.mark_silent_agents_offline(db, now - self.ctx.settings.lease_ttl_s)
        return taken

    def grace_after_start(self) -> int:
        """After a restart, every agent gets a full lease time to reach the daemon again."""
        with self.ctx.database.transaction() as db:
            return task_store.extend_all_leases(db, self.ctx.now() + self.ctx.settings.lease_ttl_s)
