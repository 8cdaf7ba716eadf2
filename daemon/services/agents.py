"""The agent protocol: register, heartbeat, lease, progress, log, complete, fail (heartbeats
and progress go through ``agent_updates.py``, as protocol 2's updates do)."""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import sqlite_utils

from common.errors import InvalidInput, NotFound, TaskNotYours
from common.models import (
    AgentChange,
    AgentInfo,
    AgentRegistration,
    CompletionReply,
    Heartbeat,
    HeartbeatReply,
    JobSpec,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)
from common.states import TaskState
from daemon.context import Context, to_datetime
from daemon.scheduling.failures import last_line
from daemon.services.agent_info import agent_infos, load_agent_info
from daemon.services.agent_updates import AgentUpdateService
from daemon.services.failures import FailureService
from daemon.services.frame_files import FrameFiles
from daemon.services.jobs import JobService
from daemon.services.lease_gate import LeaseGate
from daemon.storage import agents as agent_store
from daemon.storage import data as data_store
from daemon.storage import jobs as job_store
from daemon.storage import limits as limit_store
from daemon.storage import queue as queue_store
from daemon.storage import tasks as task_store

if TYPE_CHECKING:
    from common.data.task_data import TaskData

logger = logging.getLogger(__name__)

#: Jobs read from the queue at a time while looking for a task to claim.
CANDIDATES = 16


class AgentService:
    """What render-node agents ask of the daemon."""

    def __init__(
        self,
        context: Context,
        jobs: JobService,
        updates: AgentUpdateService,
        lease_gate: LeaseGate | None = None,
        failures: FailureService | None = None,
    ) -> None:
        self.ctx = context
        self.jobs = jobs
        self.updates = updates
        """Heartbeats and progress, written by the group commit."""
        self.failures = failures or FailureService(context)
        """What a failed task does to itself, its job's nodes and its node."""
        self.frames = FrameFiles(context.paths)
        """What a report may name as the files a task wrote."""
        self.lease_gate = lease_gate
        """Given when the daemon bursts: routes then decide what cloud nodes may take."""
        self._work_found = False
        """Whether the last lease of this process found a task (a hint: a lost race on it
        only costs a read or a transaction)."""

    def register(self, registration: AgentRegistration) -> AgentInfo:
        agent_id = uuid.uuid4().hex
        with self.ctx.database.transaction() as db:
            agent_store.insert_agent(db, agent_id, registration, self.ctx.now())
            info = load_agent_info(db, self.ctx.settings, agent_id)
        logger.info("agent_id=%s registered as %s on %s", agent_id, info.name, info.hostname)
        return info

    def list_agents(self) -> list[AgentInfo]:
        db = self.ctx.database.db
        return agent_infos(db, self.ctx.settings, agent_store.list_agents(db))

    def heartbeat(self, agent_id: str, beat: Heartbeat) -> HeartbeatReply:
        """Renews the leases the agent still holds; tells it which tasks to stop."""
        return self.updates.heartbeat(agent_id, beat)

    def lease(self, agent_id: str) -> TaskAssignment | None:
        """Hands the agent a queued task of the best-ranked job it can run, or None.

        The queue order is the stored rank (the ranking pass keeps it current), read through
        an index: a lease never computes ranks nor waits for a pass. The query matches the
        jobs' requirements to the node, leaves out jobs the node is kept off and those whose
        limits are full, and takes only ready tasks (``storage/queue.py``). The claim is a
        compare-and-set inside the write transaction that also counted the limits' units, so a
        task is never given to two agents and a limit never overdrawn, however many ask at once.
        A suspect, disabled or draining node gets nothing (``NodeFacts.takes_work``), asked
        before any count is made. When a read already shows nothing for the node (an idle
        farm's polls), no write transaction is taken: its visit joins the group commit. While
        leases find work (a busy farm) that read is skipped: it would only be made again in
        the transaction.
        """
        now = self.ctx.now()
        if not self._work_found and self._nothing_for(agent_id, now):
            self.updates.visited(agent_id, now)
            return None
        with self.ctx.database.transaction() as db:
            return self._claim(db, self._touch(db, agent_id, now), now)

    def _claim(
        self, db: sqlite_utils.Database, agent: dict[str, Any], now: float
    ) -> TaskAssignment | None:
        """Claims the best task ``agent`` can run, inside the caller's write transaction
        (see ``lease``); None when there is none for it."""
        agent_id = agent["id"]
        node = queue_store.NodeFacts.of(agent)
        if not node.takes_work:
            return None
        gate = None if agent["studio_access"] else self.lease_gate  # cloud nodes only
        if gate is not None and not gate.may_lease(db, agent):
            return None
        expires = now + self.ctx.settings.lease_ttl_s
        full = limit_store.full_limits(db, agent_id)
        offset = 0
        while candidates := queue_store.queue_candidates(
            db, node, CANDIDATES, offset, now=now, full_limits=full
        ):
            for job_id in candidates:
                if gate is not None:  # a cloud node takes frames of routed jobs, up to a quota
                    allowed = gate.cloud_quota(db, agent, job_id)
                    if allowed <= 0:
                        continue
                    _fit_first_queued(db, job_id, allowed, now, node.memory_mb)
                task = task_store.claim_first_queued(
                    db, job_id, agent_id, expires, now=now, memory_mb=node.memory_mb
                )
                if task is not None:
                    self.jobs.settle(db, job_id)
                    logger.info(
                        "agent_id=%s leased task_id=%s of job_id=%s (attempt %d)",
                        agent_id, task["id"], job_id, task["attempts"],
                    )  # fmt: skip
                    self._work_found = True
                    return self._assignment(db, task)
            offset += len(candidates)
        self._work_found = False  # the next polls ask a read first
        return None

    def _assignment(self, db: sqlite_utils.Database, task: dict[str, Any]) -> TaskAssignment:
        spec = job_store.job_spec(job_store.require_job(db, task["job_id"]))
        stall = spec.stall_timeout_s or self.ctx.settings.failures.stall_timeout_s
        return _assignment(task, spec, stall)

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None:
        """A running task's progress; the first moves it from leased to running."""
        self.updates.progress(agent_id, task_id, update)

    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None:
        """Appends to the attempt's log; accepted even just after the task ended. Only reads
        the database (the log is a file): no write lock."""
        task = task_store.get_task(self.ctx.database.db, task_id)
        if task is None or task["agent_id"] != agent_id or task["attempts"] != chunk.attempt:
            raise TaskNotYours(f"Task {task_id} attempt {chunk.attempt} is not yours.")
        self.ctx.task_logs.append(task["job_id"], task_id, chunk.attempt, chunk.offset, chunk.text)

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> CompletionReply:
        """Records the agent's task done; with ``lease_next``, leases its next task in the same
        transaction (one call and one commit where a busy node made two of each)."""
        now = self.ctx.now()
        self._check_outputs(agent_id, task_id, done)  # before the write lock: it looks at the disk
        with self.ctx.database.transaction() as db:
            agent = self._touch(db, agent_id, now)
            row = task_store.get_task(db, task_id)
            if _already_done(row, agent_id, done.attempt):
                # A resend after a lost answer: already applied; that answer's next task, if
                # the agent has not started it, is its next task still.
                unstarted = task_store.unstarted_of(db, agent_id) if done.lease_next else None
                return CompletionReply(next=self._assignment(db, unstarted) if unstarted else None)
            task = _held(row, agent_id, task_id, done.attempt)
            self._book(db, agent, task, now, preempted=False)
            if done.blobs:
                data_store.add_outputs(
                    db, task_id, task["job_id"], [(b.path, b.hash, b.size) for b in done.blobs]
                )
            started = task["started_at"] or now
            duration = max(0.0, now - started)
            task_store.move_task(
                db, task_id, TaskState.DONE, holder=agent_id, attempt=done.attempt,
                finished_at=now, duration_s=duration, progress=1.0,
                outputs=json.dumps(done.outputs), error="", error_class="", lease_expires_at=None,
            )  # fmt: skip
            agent_store.reset_failures_in_a_row(db, agent_id)
            job_store.add_rendered(db, task["job_id"], task["frame_count"], duration)
            state = self.jobs.settle(db, task["job_id"])
            following = self._claim(db, agent, now) if done.lease_next else None
        logger.info("agent_id=%s finished task_id=%s; job is %s", agent_id, task_id, state.value)
        return CompletionReply(next=following)

    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None:
        """The agent's report that a task failed on it: the failure policy decides what
        follows (``services/failures.py``), then the job's state is derived again."""
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            agent = self._touch(db, agent_id, now)
            task = _held(task_store.get_task(db, task_id), agent_id, task_id, failure.attempt)
            self._book(db, agent, task, now, preempted=failure.preempted)
            target = self.failures.task_failed(db, agent, task, failure, now)
            state = self.jobs.settle(db, task["job_id"])
        logger.warning(
            "agent_id=%s task_id=%s failed (%s: %s); task is %s, job is %s",
            agent_id, task_id, failure.error_class or "unclassified",
            last_line(failure.error), target.value, state.value,
        )  # fmt: skip

    def change(self, agent_id: str, change: AgentChange, by: str) -> AgentInfo:
        """A TD's pool and tags for a node, or the node's suspect mark cleared (``by``: who).

        Raises:
            InvalidInput: the change names nothing.
            NotFound: there is no such agent.
        """
        if change == AgentChange():
            raise InvalidInput(
                "Name what to change: pool, tags, or suspect=false to let the node lease again."
            )
        with self.ctx.database.transaction() as db:
            if agent_store.get_agent(db, agent_id) is None:
                raise NotFound(f"There is no agent {agent_id}; GET /api/v1/agents lists them.")
            if change.pool is not None or change.tags is not None:
                agent_store.set_labels(db, agent_id, change.pool, change.tags)
            if change.suspect is False:
                agent_store.set_suspect(db, agent_id, "")
            info = load_agent_info(db, self.ctx.settings, agent_id)
        logger.info(
            "agent_id=%s changed by %s: %s", agent_id, by, change.model_dump_json(exclude_none=True)
        )
        return info

    def task_data(self, agent_id: str, task_id: int) -> TaskData:
        """The files a task held by this agent needs (its frames' share of the job's manifest).

        Raises:
            TaskNotYours: the agent does not hold the task.
            NotFound: the job is not staged (anymore).
        """
        from common.data.manifest import Manifest
        from common.data.task_data import TaskData

        db = self.ctx.database.db
        task = task_store.get_task(db, task_id)
        if task is None or task["agent_id"] != agent_id or task["state"] not in task_store.ACTIVE:
            raise TaskNotYours(f"Task {task_id} is not held by this agent; stop working on it.")
        staged = data_store.manifest_of(db, task["job_id"])
        if staged is None:
            raise NotFound(f"The files of job {task['job_id']} are not in the object store.")
        manifest_json, destination = staged
        job = job_store.require_job(db, task["job_id"])
        spec = job_store.job_spec(job)
        frames = json.loads(task["frames"])
        return TaskData(
            job_id=task["job_id"],
            task_id=task_id,
            scene=spec.scene,
            manifest=Manifest.from_json(manifest_json).for_frames(frames),
            path_rules=list(self.ctx.settings.path_rules),
            store=destination,
        )

    # --- helpers -----------------------------------------------------------------------------

    def _book(
        self,
        db: sqlite_utils.Database,
        agent: dict[str, Any],
        task: dict[str, Any],
        now: float,
        *,
        preempted: bool,
    ) -> None:
        """Books a cloud node's render time to the task's show (for budgets)."""
        if agent["studio_access"] or self.lease_gate is None:
            return
        job = job_store.require_job(db, task["job_id"])
        self.lease_gate.book_task_end(db, agent, task, job["project"], now, preempted=preempted)

    def _check_outputs(self, agent_id: str, task_id: int, done: TaskDone) -> None:
        """Refuses a report naming files (written here or sent as blobs) outside the job's
        output folder, before anything is written.

        Raises:
            OutputNotAllowed: a file breaks ``FrameFiles``' rules.
        """
        if not done.outputs and not done.blobs:
            return
        db = self.ctx.database.db
        task = task_store.get_task(db, task_id)
        if task is None or task["agent_id"] != agent_id or task["attempts"] != done.attempt:
            return  # a resend, or not this node's: the transaction answers it
        spec = job_store.job_spec(job_store.require_job(db, task["job_id"]))
        # Uploaded frames come home to these paths: the same rules as the files reported.
        reported = [*done.outputs, *(blob.path for blob in done.blobs)]
        self.frames.check_reported(task["job_id"], spec, reported)

    def _nothing_for(self, agent_id: str, now: float) -> bool:
        """Whether one read (no write lock) shows that a lease would find the agent nothing
        now; False where only the lease's transaction can tell (a candidate job, a cloud
        node's route).

        Raises:
            NotFound: there is no such agent (register again).
        """
        db = self.ctx.database.db
        agent = agent_store.get_agent(db, agent_id)
        if agent is None:
            raise NotFound(f"Unknown agent {agent_id}; register again.")
        node = queue_store.NodeFacts.of(agent)
        if not node.takes_work:
            return True
        if not agent["studio_access"] and self.lease_gate is not None:
            return False
        full = limit_store.full_limits(db, agent_id)
        return not queue_store.queue_candidates(db, node, 1, now=now, full_limits=full)

    def _touch(self, db: sqlite_utils.Database, agent_id: str, now: float) -> dict[str, Any]:
        if not agent_store.touch_agent(db, agent_id, now):
            raise NotFound(f"Unknown agent {agent_id}; register again.")
        agent = agent_store.get_agent(db, agent_id)
        assert agent is not None
        return agent


def _held(task: dict[str, Any] | None, agent_id: str, task_id: int, attempt: int) -> dict[str, Any]:
    """``task`` (the row of ``task_id``) when the agent holds that attempt of it.

    Raises:
        NotFound: there is no such task.
        TaskNotYours: another agent or attempt holds it, or it ended.
    """
    if task is None:
        raise NotFound(f"There is no task {task_id}.")
    if (
        task["agent_id"] != agent_id
        or task["attempts"] != attempt
        or task["state"] not in task_store.ACTIVE
    ):
        raise TaskNotYours(
            f"Task {task_id} attempt {attempt} is no longer yours (it is {task['state']}); "
            "stop working on it."
        )
    return task


def _fit_first_queued(
    db: sqlite_utils.Database, job_id: int, frames: int, now: float, memory_mb: int
) -> None:
    """Splits the job's first task ready for the node so that it holds at most ``frames``
    frames.

    A cloud node takes a job's frames in the chunk its route was planned on; the rest of a
    longer task stays queued as a task of its own.
    """
    task = task_store.first_queued(db, job_id, now=now, memory_mb=memory_mb)
    if task is not None and task["frame_count"] > frames:
        task_store.split_queued(db, task["id"], frames)


def _already_done(task: dict[str, Any] | None, agent_id: str, attempt: int) -> bool:
    return (
        task is not None
        and task["state"] == TaskState.DONE.value
        and task["agent_id"] == agent_id
        and task["attempts"] == attempt
    )


def _assignment(task: dict[str, Any], spec: JobSpec, stall_timeout_s: int) -> TaskAssignment:
    return TaskAssignment(
        task_id=task["id"],
        job_id=task["job_id"],
        attempt=task["attempts"],
        frames=json.loads(task["frames"]),
        dcc=spec.dcc,
        renderer=spec.renderer,
        scene=spec.scene,
        output=spec.output,
        output_format=spec.output_format,
        env=spec.env,
        timeout_s=spec.timeout_s,
        lease_expires_at=to_datetime(task["lease_expires_at"]),
        stall_timeout_s=stall_timeout_s,
    )
