"""Group commit: the small writes of many agents' requests, applied in one transaction.

Every rendering agent reports every few seconds; one write transaction per report would make
the whole farm queue for SQLite's single write lock. Instead a request reads what it needs to
answer (WAL readers never wait for the writer), adds its writes to the open ``WriteBatch`` and
returns; a flusher thread applies the batch in ONE transaction every ``[agents]
commit_interval_s`` (50 ms), whatever the number of agents it holds.

The writes are the ones a lost batch does not hurt: when was an agent last heard from, lease
renewals, load samples, progress, and the first progress's move from leased to running. A
daemon that dies with a batch not yet written loses at most one interval of them: agents send
heartbeats and progress again within seconds, and every lease gets a full lease time after a
restart (``Reaper.grace_after_start``), so no lease is lost for it. Log text is not in the
batch: it is appended to the attempt's log file in the request (``storage/task_logs.py``),
which takes no database lock, before the agent hears its update was taken.

Each write is a compare-and-set on who holds the task and which attempt (checked again where
used, whatever the request read), merged by key: a batch keeps the newest progress and the
newest time per agent and lease, and the first start of a task, so a start is applied exactly
once. A write that comes after its task ended changes nothing (the task is no longer
active), so a task's completion does not wait for the batch; its time counts from its lease.
``flush`` applies one batch at a time, in the order they filled, so a caller that flushes (the
reaper) finds every write added before it committed.

Until ``start`` (an app that does not serve: tests, the CLI) each request's writes are applied
at once, in the request, as they were before the group commit, and a failure is the
request's.

Threads: requests add from waitress's threads and the fast address's (its event loop and
pool); the flusher thread and the reaper flush;
``start`` and ``stop`` run on the server's thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from common.models import Capabilities
from common.states import TaskState
from daemon.storage import Database
from daemon.storage import agents as agent_store
from daemon.storage import monitoring as load_store
from daemon.storage import tasks as task_store

logger = logging.getLogger(__name__)

Attempt = tuple[int, str, int]
"""A task, the agent that holds it and the attempt: ``(task_id, agent_id, attempt)``."""


@dataclass
class WriteBatch:
    """The writes of the requests since the last flush, merged by key."""

    requests: int = 0
    """How many requests added to this batch."""
    seen: dict[str, float] = field(default_factory=dict)
    """Per agent, the newest time it was heard from."""
    capabilities: dict[str, Capabilities] = field(default_factory=dict)
    loads: dict[str, tuple[dict[str, Any], float]] = field(default_factory=dict)
    renewals: dict[int, tuple[str, float]] = field(default_factory=dict)
    """Per task, its holder and the lease's new expiry."""
    starts: set[Attempt] = field(default_factory=set)
    """Attempts to move from leased to running (their first report)."""
    progress: dict[Attempt, float] = field(default_factory=dict)

    def heard_from(self, agent_id: str, now: float) -> None:
        self.seen[agent_id] = max(now, self.seen.get(agent_id, now))

    def renew(self, agent_id: str, task_ids: set[int], expires_at: float) -> None:
        for task_id in task_ids:
            self.renewals[task_id] = (agent_id, expires_at)

    def start(self, task_id: int, agent_id: str, attempt: int) -> None:
        self.starts.add((task_id, agent_id, attempt))

    def set_progress(self, task_id: int, agent_id: str, attempt: int, progress: float) -> None:
        self.progress[(task_id, agent_id, attempt)] = progress

    def record_load(self, agent_id: str, load: dict[str, Any], now: float) -> None:
        self.loads[agent_id] = (load, now)

    def set_capabilities(self, agent_id: str, capabilities: Capabilities) -> None:
        self.capabilities[agent_id] = capabilities


@dataclass(frozen=True)
class Flushed:
    """What one flush committed."""

    requests: int
    agents: int


class GroupCommit:
    """Collects agents' small writes and commits them together (see the module's docstring)."""

    def __init__(self, database: Database, interval_s: float) -> None:
        self.database = database
        self.interval_s = interval_s
        self._batch = WriteBatch()
        self._adding = threading.Lock()
        """Guards ``_batch``: a request's writes join one batch whole."""
        self._flushing = threading.Lock()
        """One flush at a time: batches commit in the order they filled."""
        self._deferred = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.commits = 0
        """Batches committed (a counter for tests and metrics)."""
        self.last: Flushed | None = None
        """What the last committed batch held."""
        self.on_commit: list[Callable[[Flushed], None]] = []
        """Called (on the flushing thread) after each batch commits."""

    @contextmanager
    def writes(self) -> Iterator[WriteBatch]:
        """The open batch, for one request to add its writes to. Before ``start`` (or
        ``defer``), the writes are applied when the block ends, in the caller's thread."""
        with self._adding:
            self._batch.requests += 1
            yield self._batch
            deferred = self._deferred
        if not deferred:
            self._flush(raising=True)  # the request learns that its writes failed

    def defer(self) -> None:
        """Keeps writes in the batch until ``flush``, without a flusher thread (tests)."""
        self._deferred = True

    def start(self) -> None:
        """Starts the flusher thread; from now on requests do not wait for their writes."""
        self._deferred = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the flusher thread and writes what it still holds; writes are applied at
        once again afterwards."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._deferred = False
        self.flush()

    def flush(self) -> Flushed | None:
        """Commits the open batch in one transaction (None: it was empty). A failure is
        logged, never raised: the batch is lost, as in a crash, and the next one goes on."""
        return self._flush(raising=False)

    def _flush(self, *, raising: bool) -> Flushed | None:
        with self._flushing:
            with self._adding:
                batch, self._batch = self._batch, WriteBatch()
            if batch.requests == 0:
                return None
            try:
                with self.database.transaction() as db:
                    self._apply(db, batch)
            except Exception:
                if raising:
                    raise
                logger.exception(
                    "Lost the writes of %d agent request(s) (heartbeats, progress, log "
                    "lines); the agents send them again",
                    batch.requests,
                )
                return None
            self.commits += 1
            self.last = Flushed(batch.requests, len(batch.seen))
            for hook in self.on_commit:
                hook(self.last)
            return self.last

    def _run(self) -> None:
        """The flusher thread: a flush every ``interval_s`` until ``stop``."""
        while not self._stop.wait(self.interval_s):
            try:
                self.flush()
            except Exception:  # a hook that failed: the next batch goes on all the same
                logger.exception("After a group commit")

    def _apply(self, db: sqlite_utils.Database, batch: WriteBatch) -> None:
        """Writes one batch inside the flush's transaction."""
        agent_store.touch_agents(db, batch.seen.items())
        for agent_id, capabilities in batch.capabilities.items():
            agent_store.update_capabilities(db, agent_id, capabilities)
        task_store.renew_held(
            db, ((task, agent, expires) for task, (agent, expires) in batch.renewals.items())
        )
        for task_id, agent_id, attempt in batch.starts:  # started_at: when it was leased
            task_store.move_task(db, task_id, TaskState.RUNNING, holder=agent_id, attempt=attempt)
        task_store.set_progresses(
            db, ((task, agent, attempt, value) for (task, agent, attempt), value
                 in batch.progress.items()),
        )  # fmt: skip
        for agent_id, (load, at) in batch.loads.items():
            load_store.record_load(db, agent_id, load, at)
