"""The quiet agent protocol (2): one update every few seconds carries a rendering agent's
heartbeat, progress and log lines; heartbeats and progress of protocol 1 take the same path.

A request is answered from one read of the tasks it names (who holds them, which attempt);
its writes go to the group commit (``group_commit.py``), which applies many agents' writes in
one transaction and checks holder and attempt again when it does. A request never waits for a
write transaction of its own.
"""

from __future__ import annotations

import logging

from common.errors import InvalidInput, NotFound, TaskNotYours
from common.models import (
    AGENT_PROTOCOL_VERSION,
    AgentProtocol,
    AgentUpdate,
    AgentUpdateReply,
    Heartbeat,
    HeartbeatReply,
    TaskProgress,
    TaskUpdate,
)
from common.states import TaskState
from daemon.context import Context, to_datetime
from daemon.services.group_commit import GroupCommit, WriteBatch
from daemon.services.monitoring import load_of
from daemon.storage import agents as agent_store
from daemon.storage import tasks as task_store
from daemon.storage.tasks import TaskHolder

logger = logging.getLogger(__name__)

MAX_LOG_CHARS = 1_000_000
"""The most log characters one update carries (all its pieces), whatever the body limit."""
_BYTES_PER_CHAR = 6
"""The most bytes one character of JSON text may take (``\\uXXXX``)."""


class AgentUpdateService:
    """Applies agents' updates, heartbeats and progress through the group commit."""

    def __init__(self, context: Context, group: GroupCommit) -> None:
        self.ctx = context
        self.group = group

    def protocol(self, fast_url: str | None = None) -> AgentProtocol:
        """What an agent needs to speak protocol 2 with this daemon (``fast_url``: where its
        busiest calls go, when the daemon serves them apart)."""
        return AgentProtocol(
            version=AGENT_PROTOCOL_VERSION,
            update_interval_s=self.ctx.settings.agents.update_interval_s,
            max_log_chars_per_update=self.max_log_chars(),
            keep_alive=self.ctx.settings.agents.keep_alive,
            fast_url=fast_url,
        )

    def max_log_chars(self) -> int:
        """Log characters one update may carry: what the agents' body limit surely holds."""
        return min(MAX_LOG_CHARS, self.ctx.settings.limits.agent_body_bytes // _BYTES_PER_CHAR)

    def update(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply:
        """Renews the leases of ``update.task_ids``, applies each task's progress while the
        agent holds that attempt (the first moves it to running) and appends its log pieces
        (also just after the attempt ended; a resend is harmless). A task the agent no longer
        holds is not an error: its progress is ignored and its id is in ``cancel``; a report
        of an older attempt of a task the agent holds again is only ignored.

        Raises:
            InvalidInput: the update carries more log text than ``max_log_chars``.
            NotFound: there is no such agent (register again).
        """
        self._check_log_size(update)
        now = self.ctx.now()
        self._known(agent_id)
        named = [*update.task_ids, *(task.task_id for task in update.tasks)]
        found = task_store.holders(self.ctx.database.db, named)
        self._append_logs(agent_id, update, found)
        with self.group.writes() as batch:
            reply = self._beat(batch, agent_id, update, found, now)
            stop = set(reply.cancel)
            for task in update.tasks:
                if not self._task(batch, agent_id, task, found.get(task.task_id), now):
                    stop.add(task.task_id)
        if stop:
            logger.info("agent_id=%s must stop tasks %s", agent_id, sorted(stop))
        return AgentUpdateReply(
            cancel=sorted(stop),
            lease_expires_at=reply.lease_expires_at,
            update_interval_s=self.ctx.settings.agents.update_interval_s,
        )

    def heartbeat(self, agent_id: str, beat: Heartbeat) -> HeartbeatReply:
        """Renews the leases the agent still holds; tells it which tasks to stop (protocol 1).

        Raises:
            NotFound: there is no such agent (register again).
        """
        now = self.ctx.now()
        self._known(agent_id)
        found = task_store.holders(self.ctx.database.db, beat.task_ids)
        with self.group.writes() as batch:
            reply = self._beat(batch, agent_id, beat, found, now)
        if reply.cancel:
            logger.info("agent_id=%s must stop tasks %s", agent_id, reply.cancel)
        return reply

    def progress(self, agent_id: str, task_id: int, report: TaskProgress) -> None:
        """A running task's progress (protocol 1); the first moves it to running.

        Raises:
            NotFound: there is no such agent, or no such task.
            TaskNotYours: the agent does not hold this attempt of the task (409).
        """
        now = self.ctx.now()
        self._known(agent_id)
        holder = task_store.holders(self.ctx.database.db, [task_id]).get(task_id)
        if holder is None:
            raise NotFound(f"There is no task {task_id}.")
        if not holder.holds_attempt(agent_id, report.attempt):
            raise TaskNotYours(
                f"Task {task_id} attempt {report.attempt} is no longer yours (it is "
                f"{holder.state}); stop working on it."
            )
        with self.group.writes() as batch:
            batch.heard_from(agent_id, now)
            _progress(batch, agent_id, task_id, report.attempt, report.progress, holder)

    def visited(self, agent_id: str, now: float) -> None:
        """The agent was heard from (an idle poll that found nothing)."""
        with self.group.writes() as batch:
            batch.heard_from(agent_id, now)

    # --- helpers -----------------------------------------------------------------------------

    def _known(self, agent_id: str) -> None:
        if not agent_store.agent_exists(self.ctx.database.db, agent_id):
            raise NotFound(f"Unknown agent {agent_id}; register again.")

    def _append_logs(
        self, agent_id: str, update: AgentUpdate, found: dict[int, TaskHolder]
    ) -> None:
        """Appends each task's log pieces to its attempt's log file, in the request and in
        order (no database lock: ``storage/task_logs.py``), where the attempt is, or was until
        it ended just now, this agent's; a resend is harmless."""
        for task in update.tasks:
            holder = found.get(task.task_id)
            if holder is None or not holder.wrote(agent_id, task.attempt):
                continue
            for piece in task.log:
                self.ctx.task_logs.append(
                    holder.job_id, task.task_id, task.attempt, piece.offset, piece.text
                )

    def _check_log_size(self, update: AgentUpdate) -> None:
        chars = sum(len(piece.text) for task in update.tasks for piece in task.log)
        most = self.max_log_chars()
        if chars > most:
            raise InvalidInput(
                f"The update carries {chars:,} characters of log; send at most {most:,} in "
                "one update (GET /api/v1/agents/protocol) and the rest in the next.",
                details=[{"field": "tasks.log", "problem": f"at most {most} characters"}],
            )

    def _beat(
        self,
        batch: WriteBatch,
        agent_id: str,
        beat: Heartbeat,
        found: dict[int, TaskHolder],
        now: float,
    ) -> HeartbeatReply:
        """The heartbeat's writes, and its answer from what ``found`` says."""
        expires = now + self.ctx.settings.lease_ttl_s
        held = {i for i in beat.task_ids if i in found and found[i].holds(agent_id)}
        batch.heard_from(agent_id, now)
        batch.renew(agent_id, held, expires)
        if beat.capabilities is not None:
            batch.set_capabilities(agent_id, beat.capabilities)
        load = load_of(beat)
        if load is not None:
            batch.record_load(agent_id, load, now)
        cancel = sorted(set(beat.task_ids) - held)
        return HeartbeatReply(cancel=cancel, lease_expires_at=to_datetime(expires))

    def _task(
        self,
        batch: WriteBatch,
        agent_id: str,
        task: TaskUpdate,
        holder: TaskHolder | None,
        now: float,
    ) -> bool:
        """One task's part of an update; False when the agent no longer holds the task (an
        older attempt's report, from a task it holds again, is only ignored)."""
        if holder is None:
            return False
        if holder.holds_attempt(agent_id, task.attempt):
            _progress(batch, agent_id, task.task_id, task.attempt, task.progress, holder)
        return holder.holds(agent_id)


def _progress(
    batch: WriteBatch,
    agent_id: str,
    task_id: int,
    attempt: int,
    progress: float | None,
    holder: TaskHolder,
) -> None:
    """A held attempt's progress; the first report moves a leased task to running."""
    if holder.state == TaskState.LEASED.value:
        batch.start(task_id, agent_id, attempt)
    if progress is not None:
        batch.set_progress(task_id, agent_id, attempt, progress)
