"""The render-node agent: registers, leases one task at a time, renders it and reports back.

Threads:

* the **main thread** runs ``Agent.run``: it registers, asks for work (``lease``) and runs each
  task (``cloud_agent.task_run``) through its DCC's runner, queueing its updates in the outbox;
* the **heartbeat thread** tells the daemon every ``heartbeat_interval_s`` which task the agent
  holds, which renews its lease; a task in the reply's ``cancel`` list is killed at once. What
  the node has (``cloud_agent.capabilities``: OS, cores, memory, GPUs, DCC versions) goes with
  the registration, and with a heartbeat when a re-check found it changed;
* the **outbox sender thread** (``cloud_agent.outbox``) delivers updates in order.

After registering, the agent asks which protocol the daemon speaks (``agent_protocol``). A
daemon of version 2 takes one update every few seconds (``cloud_agent.updates``): the outbox's
sender then carries the heartbeat's fields, the progress and the log in it, the heartbeat thread
stays silent, and an idle agent waits the lease's ``X-Poll-Interval`` between polls. A daemon of
version 3 also answers a task's completion with the next task (``Outbox.next_work``): a busy
node then makes one call per task, not a completion and a lease. An older daemon (no such
route) gets the heartbeat, progress and log calls as before.

The daemon being unreachable never stops the agent: it backs off and keeps trying. A stop request
(SIGTERM, SIGINT) stops leasing, kills the running render and reports it as preempted, so the
daemon requeues it without spending a retry, then flushes the outbox briefly and returns.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cloud_agent.capabilities import RECHECK_S, CapabilityWatch, node_tags, probe
from cloud_agent.identity import AgentIdentity
from cloud_agent.load import heartbeat_with_load
from cloud_agent.outbox import Backoff, Outbox
from cloud_agent.process import kill_recorded
from cloud_agent.runners import Runner
from cloud_agent.task_run import Outcome, ProgressThrottle, TaskRun
from cloud_agent.updates import QuietChannel
from common.client import LeaseAnswer
from common.config import Settings
from common.errors import CloudburstError, NotFound, Unauthenticated
from common.job_paths import JobPaths
from common.models import (
    AgentInfo,
    AgentProtocol,
    AgentRegistration,
    Capabilities,
    Heartbeat,
    HeartbeatReply,
    TaskAssignment,
    TaskFailure,
)

if TYPE_CHECKING:
    from cloud_agent.away import AwayData
    from common.data.task_data import TaskData

logger = logging.getLogger(__name__)

#: Files in the agent's state folder.
OUTBOX_FILE = "outbox.sqlite3"
RUNNING_FILE = "running.json"


class AgentClient(Protocol):
    """The calls of ``DaemonClient`` the agent's own threads make (updates go via the outbox)."""

    def register(self, registration: AgentRegistration) -> AgentInfo: ...

    def agent_protocol(self) -> AgentProtocol | None: ...

    def heartbeat(self, agent_id: str, beat: Heartbeat) -> HeartbeatReply: ...

    def lease_answer(self, agent_id: str) -> LeaseAnswer: ...

    def task_data(self, agent_id: str, task_id: int) -> TaskData: ...


def describe_host(settings: Settings, capabilities: Capabilities) -> AgentRegistration:
    """What this machine tells the daemon when it registers: its name, host, pool and tags,
    and what it has (DCCs and their versions, OS, cores, memory, GPUs)."""
    return AgentRegistration(
        name=settings.agent_name,
        hostname=socket.gethostname() or "localhost",
        pool=settings.agent_pool,
        studio_access=settings.studio_access,
        tags=node_tags(settings.agent_tags),
        dccs=capabilities.dccs,
        dcc_versions=capabilities.dcc_versions,
        cores=capabilities.cores,
        memory_mb=capabilities.memory_mb,
        os=capabilities.os,
        gpus=capabilities.gpus,
    )


def _facts(capabilities: Capabilities) -> dict[str, object]:
    """The fields of a registration that ``capabilities`` holds (as models, not dumped)."""
    return {name: getattr(capabilities, name) for name in Capabilities.model_fields}


class Agent:
    """One render-node agent process: one task at a time.

    Every collaborator is given, so tests can run pieces with real processes and a recording
    client. ``build_agent`` wires the real ones.
    """

    def __init__(
        self,
        settings: Settings,
        client: AgentClient,
        outbox: Outbox,
        runners: Mapping[str, Runner],
        *,
        state_dir: Path,
        registration: AgentRegistration | None = None,
        kill_grace_s: float = 5.0,
        flush_timeout_s: float = 5.0,
        progress_throttle: Callable[[], ProgressThrottle] = ProgressThrottle,
        identity: AgentIdentity | None = None,
        away: AwayData | None = None,
        capabilities: Callable[[], Capabilities] | None = None,
        recheck_s: float = RECHECK_S,
    ) -> None:
        """Wires the agent; nothing runs before ``run()``.

        Args:
            settings: poll interval, heartbeat fallback, name and pool.
            client: the daemon client used for register, heartbeat and lease.
            outbox: where task updates go; the agent becomes its ``on_task_lost``.
            runners: the runner of each DCC this agent renders.
            state_dir: the agent's own folder (the running render's record lives there).
            registration: what to register as; ``describe_host`` with ``capabilities()`` when
                None.
            kill_grace_s: seconds between SIGTERM and SIGKILL when a render is stopped.
            flush_timeout_s: how long a stopping agent waits for the outbox to drain.
            progress_throttle: makes the throttle of each task's progress updates.
            identity: the enrollment token and the agent's own token; None: no tokens.
            away: the node's object store and cache, when it has no studio storage.
            capabilities: finds what the node has now; ``probe`` of the runners when None.
            recheck_s: seconds between two checks of what the node has.
        """
        self.settings = settings
        self.client = client
        self.outbox = outbox
        self.runners = dict(runners)
        self.state_dir = state_dir
        check = capabilities or (lambda: probe(self.runners))
        self.registration = registration or describe_host(settings, check())
        self._capabilities = CapabilityWatch(
            self.registration.capabilities, check, every_s=recheck_s
        )
        self.kill_grace_s = kill_grace_s
        self.flush_timeout_s = flush_timeout_s
        self._make_throttle = progress_throttle
        self.identity = identity
        self.away = away
        self.paths = JobPaths.from_settings(settings)
        """The node's rules for a job's scene and output (``[paths]``), checked before a render."""
        outbox.on_task_lost = self._on_task_lost
        self._lock = threading.Lock()
        self._register_lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_reason = ""
        self._current: TaskRun | None = None
        self._info: AgentInfo | None = None
        self._heartbeat_thread: threading.Thread | None = None
        self._heartbeat_stop = threading.Event()
        self._backoff = Backoff(first=min(settings.poll_interval_s, 1.0), most=30.0)
        self._handed: tuple[str, TaskAssignment] | None = None
        """The next task a completion's answer carried, and the agent id it was leased to."""

    # --- state -------------------------------------------------------------------------------

    @property
    def agent_id(self) -> str:
        """The id the daemon gave at the last registration.

        Raises:
            RuntimeError: the agent has not registered yet.
        """
        info = self._info
        if info is None:
            raise RuntimeError("The agent has not registered yet.")
        return info.id

    @property
    def stopping(self) -> bool:
        """Whether a stop was requested."""
        return self._stop.is_set()

    def current_task(self) -> TaskAssignment | None:
        """The task being worked on, if any. Any thread."""
        with self._lock:
            return self._current.assignment if self._current else None

    # --- control from other threads ---------------------------------------------------------

    def request_stop(self, reason: str = "stop requested") -> None:
        """Stops leasing and kills the running render, which is reported as preempted.

        Runs on any thread but a signal handler's (start a thread there): it takes locks.
        """
        with self._lock:
            if not self._stop.is_set():
                self._stop_reason = reason
                logger.info("agent %s: stopping (%s)", self._id_or_name(), reason)
            self._stop.set()
            current, stop_reason = self._current, self._stop_reason
        if current is not None:
            current.preempt(stop_reason)

    def cancel_task(self, task_id: int, reason: str, attempt: int | None = None) -> bool:
        """Kills the render of a task the daemon took back, and drops its pending updates.

        Runs on the heartbeat or outbox thread.

        Returns:
            Whether the task (and attempt, when given) was the one running.
        """
        with self._lock:
            current = self._current
            if current is None or current.assignment.task_id != task_id:
                return False
            if attempt is not None and current.assignment.attempt != attempt:
                return False
        current.lose(reason)
        return True

    def _on_task_lost(self, task_id: int, attempt: int, reason: str) -> None:
        self.cancel_task(task_id, f"the daemon refused an update: {reason}", attempt)

    # --- registration and heartbeats ----------------------------------------------------------

    def register(self) -> AgentInfo:
        """Registers with the daemon (once; retryable errors are raised). Main thread.

        Raises:
            CloudburstError: the daemon refused or could not be reached.
        """
        registration = self.registration
        if self.identity is not None:
            registration = self.identity.registration(registration)
        try:
            info = self.client.register(registration)
        except Unauthenticated:
            if self.identity is None or not self.identity.forget():
                raise
            info = self.client.register(self.identity.registration(self.registration))
        if self.identity is not None:
            self.identity.accept(info)
        with self._lock:
            self._info = info
        self._speak(self.client.agent_protocol())
        logger.info(
            "agent %s registered as %r on %s (dccs: %s; heartbeat every %g s)",
            info.id,
            self.registration.name,
            self.registration.hostname,
            ", ".join(self.registration.dccs),
            info.heartbeat_interval_s,
        )
        return info

    def _speak(self, protocol: AgentProtocol | None) -> None:
        """Sends updates the way the daemon takes them: one per interval from version 2; a
        completion asks for the next task from version 3."""
        self.outbox.next_work = self if protocol is not None and protocol.version >= 3 else None
        if protocol is None or protocol.version < 2:
            self.outbox.quiet = None
            return
        channel = QuietChannel(self.outbox.sink, self, protocol)
        self.outbox.quiet = channel
        logger.info(
            "agent %s: the daemon speaks agent protocol %d; one update every %g s",
            self._id_or_name(),
            protocol.version,
            channel.interval_s,
        )

    @property
    def quiet(self) -> bool:
        """Whether the daemon takes one update per interval (protocol version 2 or later)."""
        return self.outbox.quiet is not None

    def _register_until_done(self) -> bool:
        """Registers, waiting out an unreachable daemon. False if stopped first."""
        backoff = Backoff(first=min(self.settings.poll_interval_s, 1.0), most=30.0)
        while not self._stop.is_set():
            try:
                self.register()
                return True
            except CloudburstError as exc:
                if not exc.retryable:
                    raise
                delay = backoff.next()
                logger.warning(
                    "agent %r: cannot register (%s); trying again in %.1f s",
                    self.registration.name,
                    exc,
                    delay,
                )
                self._stop.wait(delay)
        return False

    def reregister(self, stale_id: str) -> None:
        """Registers again after the daemon forgot ``stale_id``; the running task is lost.

        Runs on the main or heartbeat thread; only the first caller for a stale id registers.
        """
        with self._register_lock:
            if self._info is not None and self._info.id != stale_id:
                return
            logger.warning(
                "agent %s: the daemon does not know this agent; registering again", stale_id
            )
            try:
                self.register()
            except CloudburstError as exc:
                logger.warning("agent %s: registering again failed: %s", stale_id, exc)
                return
        current = self.current_task()
        if current is not None:
            self.cancel_task(current.task_id, "the daemon forgot this agent and its lease")

    def heartbeat_once(self) -> HeartbeatReply | None:
        """Sends one heartbeat and stops the tasks the daemon cancels. Heartbeat thread.

        Returns:
            The daemon's reply, or None when it could not be had.
        """
        agent_id, beat = self.beat()
        try:
            reply = self.client.heartbeat(agent_id, beat)
        except NotFound:
            self.reregister(agent_id)
            return None
        except CloudburstError as exc:
            logger.warning("agent %s: heartbeat failed: %s", agent_id, exc)
            return None
        except Exception:
            logger.exception("agent %s: heartbeat failed", agent_id)
            return None
        self.heard(beat, reply)
        return reply

    # What the quiet channel (``cloud_agent.updates.UpdatePeer``) asks, on the outbox's thread.

    def busy(self) -> bool:
        """Whether the daemon must hear from this agent each interval: it holds a task, or what
        the node has changed."""
        return self.current_task() is not None or self._capabilities.changed() is not None

    def beat(self) -> tuple[str, Heartbeat]:
        """The agent's id and a heartbeat: the task it holds, its load, what changed."""
        agent_id = self.agent_id
        with self._lock:
            task_ids = [self._current.assignment.task_id] if self._current else []
        changed = self._capabilities.changed()
        return agent_id, heartbeat_with_load(task_ids, self.state_dir, changed)

    def heard(self, beat: Heartbeat, reply: HeartbeatReply) -> None:
        """The daemon took ``beat``: it knows what changed; stop the tasks it cancels."""
        changed = beat.capabilities
        if changed is not None:
            logger.info(
                "agent %s: the node changed; the daemon was told: %s", self._id_or_name(), changed
            )
            self._capabilities.sent(changed)
            with self._lock:  # a later registration carries it too
                self.registration = self.registration.model_copy(update=_facts(changed))
        for task_id in reply.cancel:
            self.cancel_task(task_id, "the daemon cancelled or reassigned it")

    def forgotten(self, agent_id: str) -> None:
        """The daemon does not know ``agent_id`` (an update said so): register again."""
        self.reregister(agent_id)

    def _heartbeat_loop(self) -> None:
        """The heartbeat thread."""
        while True:
            interval = self._info.heartbeat_interval_s if self._info else None
            if self._heartbeat_stop.wait(interval or self.settings.heartbeat_interval_s):
                return
            if not self.quiet:  # version 2: the updates carry the heartbeat
                self.heartbeat_once()

    def _start_heartbeats(self) -> None:
        self._heartbeat_stop.clear()
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat_loop, name="heartbeat", daemon=True
        )
        self._heartbeat_thread.start()

    def _stop_heartbeats(self) -> None:
        self._heartbeat_stop.set()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(timeout=self.settings.request_timeout_s + 5)
            self._heartbeat_thread = None

    # --- the next task in a completion's answer (outbox thread) -----------------------------

    def wanted(self, agent_id: str) -> bool:
        """Whether a completion sent as ``agent_id`` should ask for the next task: not while
        stopping, nor for an id the agent no longer has, nor with one task kept already."""
        with self._lock:
            info = self._info
            return (
                not self._stop.is_set()
                and info is not None
                and info.id == agent_id
                and self._handed is None
            )

    def take(self, agent_id: str, assignment: TaskAssignment) -> None:
        """Keeps the next task, leased to ``agent_id``, for the main loop (``step``); gives it
        back at once when the agent began stopping while the completion was on its way."""
        with self._lock:
            if not self._stop.is_set():
                self._handed = (agent_id, assignment)
                return
        self._give_back(agent_id, assignment)

    def _take_handed(self, agent_id: str) -> TaskAssignment | None:
        """The task a completion's answer carried for ``agent_id``, once."""
        with self._lock:
            handed, self._handed = self._handed, None
        if handed is None:
            return None
        if handed[0] != agent_id:  # the daemon forgot that id, and its lease with it
            return None
        return handed[1]

    def _give_back_handed(self) -> None:
        """Reports a task handed over but never started as preempted, so the daemon queues it
        again at once without spending a retry (the agent stops)."""
        with self._lock:
            handed, self._handed = self._handed, None
        if handed is not None:
            self._give_back(*handed)

    def _give_back(self, agent_id: str, assignment: TaskAssignment) -> None:
        self.outbox.put(
            agent_id,
            assignment.task_id,
            TaskFailure(
                attempt=assignment.attempt,
                error=f"the agent stopped before starting it ({self._stop_reason})",
                preempted=True,
            ),
        )

    # --- the main loop -----------------------------------------------------------------------

    def run(self) -> int:
        """Runs the agent until ``request_stop``; returns the exit status (0). Main thread.

        Raises:
            CloudburstError: the daemon refused the registration (not merely unreachable).
        """
        kill_recorded(self.state_dir / RUNNING_FILE)
        self.outbox.start()
        try:
            if not self._register_until_done():
                return 0
            self._start_heartbeats()
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception:  # never crash: log, pause, go on
                    logger.exception("agent %s: unexpected error", self._id_or_name())
                    self._stop.wait(self._backoff.next())
        finally:
            self._stop_heartbeats()
            self._give_back_handed()
            if len(self.outbox) and not self.outbox.wait_empty(self.flush_timeout_s):
                logger.warning(
                    "agent %s: %d update(s) not delivered yet; they are kept for the next start",
                    self._id_or_name(),
                    len(self.outbox),
                )
            self.outbox.stop()
        logger.info("agent %s: stopped", self._id_or_name())
        return 0

    def step(self) -> Outcome | None:
        """One turn of the main loop: lease a task and run it, or wait. Main thread.

        Returns:
            How the task ended, or None when there was no task to run.
        """
        poll = self.settings.poll_interval_s
        if not self.outbox.wait_empty(poll):
            return None  # earlier reports first: the daemon must know before new work comes
        agent_id = self.agent_id
        handed = self._take_handed(agent_id)
        if handed is not None:
            return self.run_task(handed, agent_id)
        try:
            answer = self.client.lease_answer(agent_id)
        except NotFound:
            self.reregister(agent_id)
            return None
        except CloudburstError as exc:
            delay = self._backoff.next() if exc.retryable else poll
            logger.warning("agent %s: lease failed (%s); waiting %.1f s", agent_id, exc, delay)
            self._stop.wait(delay)
            return None
        except Exception:
            logger.exception("agent %s: lease failed", agent_id)
            self._stop.wait(self._backoff.next())
            return None
        self._backoff.reset()
        if answer.assignment is None:
            # Version 2: the daemon's wait, which grows with the farm; else as it always was.
            hint = answer.poll_interval_s if self.quiet else None
            self._stop.wait(hint or poll)
            return None
        return self.run_task(answer.assignment, agent_id)

    def run_task(self, assignment: TaskAssignment, agent_id: str) -> Outcome:
        """Runs one leased task to its end and queues its updates. Main thread.

        Args:
            assignment: the leased task.
            agent_id: the agent id that holds the lease.
        """
        run = TaskRun(
            assignment,
            agent_id,
            agent_name=self.registration.name,
            outbox=self.outbox,
            runners=self.runners,
            record_path=self.state_dir / RUNNING_FILE,
            kill_grace_s=self.kill_grace_s,
            throttle=self._make_throttle(),
            away=self.away,
            daemon=self.client,
            paths=self.paths,
        )
        with self._lock:
            self._current = run
            stop_reason = self._stop_reason if self._stop.is_set() else None
        if stop_reason is not None:
            run.preempt(stop_reason)
        try:
            return run.run()
        finally:
            with self._lock:
                self._current = None

    # --- helpers -------------------------------------------------------------------------------

    def _id_or_name(self) -> str:
        return self._info.id if self._info else self.registration.name
