"""Task updates (progress, log, complete, fail) kept in order until the daemon has them.

Every update goes first into a small SQLite file in the agent's state folder, so neither a daemon
outage nor an agent restart loses a ``complete``. A sender thread delivers the updates strictly
in order: while the daemon is unreachable it waits, with growing pauses, and resends the same
first update; nothing overtakes it. When the daemon answers that a task is no longer this
agent's (``TaskNotYours``), every pending update of that attempt is dropped and the agent is told
to stop working on it. A daemon of agent protocol version 2 takes the progress and log rows
together, one update per interval (``Outbox.quiet``, ``cloud_agent.updates``); one of version 3
answers a completion with the agent's next task when it asks (``Outbox.next_work``).

``cloud_agent.log_buffer`` turns a render's output lines into the log chunks queued here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeAlias

from common.errors import CloudburstError, NotFound, TaskNotYours, UserFacingError
from common.models import (
    AgentUpdate,
    AgentUpdateReply,
    TaskAssignment,
    TaskDone,
    TaskFailure,
    TaskLogChunk,
    TaskProgress,
)

logger = logging.getLogger(__name__)

UpdateBody: TypeAlias = TaskProgress | TaskLogChunk | TaskDone | TaskFailure


class UpdateKind(StrEnum):
    """Which agent-protocol call delivers an update."""

    PROGRESS = "progress"
    """``DaemonClient.progress``."""
    LOG = "log"
    """``DaemonClient.append_log``."""
    COMPLETE = "complete"
    """``DaemonClient.complete``."""
    FAIL = "fail"
    """``DaemonClient.fail``."""


_MODELS: dict[UpdateKind, type[UpdateBody]] = {
    UpdateKind.PROGRESS: TaskProgress,
    UpdateKind.LOG: TaskLogChunk,
    UpdateKind.COMPLETE: TaskDone,
    UpdateKind.FAIL: TaskFailure,
}


NEWS = (UpdateKind.PROGRESS, UpdateKind.LOG)
"""The kinds a version-2 update carries; complete and fail keep their own calls."""


def kind_of(body: UpdateBody) -> UpdateKind:
    """The kind of an update body."""
    for kind, model in _MODELS.items():
        if isinstance(body, model):
            return kind
    raise TypeError(f"{type(body).__name__} is not a task update")


@dataclass(frozen=True)
class Update:
    """One pending task update."""

    seq: int
    """Its place in the queue (increasing)."""
    agent_id: str
    """The agent id that held the task's lease when the update was made."""
    task_id: int
    body: UpdateBody

    @property
    def kind(self) -> UpdateKind:
        return kind_of(self.body)

    @property
    def attempt(self) -> int:
        return self.body.attempt


class UpdateSink(Protocol):
    """Where updates go: the agent-protocol half of ``DaemonClient`` (``updates`` is called
    only when the daemon speaks version 2; ``complete`` returns the next task only when the
    report asked for it, from version 3)."""

    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply: ...

    def progress(self, agent_id: str, task_id: int, update: TaskProgress) -> None: ...

    def append_log(self, agent_id: str, task_id: int, chunk: TaskLogChunk) -> None: ...

    def complete(self, agent_id: str, task_id: int, done: TaskDone) -> TaskAssignment | None: ...

    def fail(self, agent_id: str, task_id: int, failure: TaskFailure) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


class OutboxStore:
    """A persistent first-in first-out queue of updates in one SQLite file; thread-safe."""

    def __init__(self, path: Path) -> None:
        """Opens (or creates) the queue file; pending updates of an earlier run are kept."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, agent_id: str, task_id: int, body: UpdateBody) -> int:
        """Appends an update (durably) and returns its sequence number."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO updates (agent_id, task_id, attempt, kind, body, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    agent_id,
                    task_id,
                    body.attempt,
                    kind_of(body).value,
                    body.model_dump_json(),
                    time.time(),
                ),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def first(self) -> Update | None:
        """The oldest pending update, or None when the queue is empty."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, agent_id, task_id, kind, body FROM updates ORDER BY seq LIMIT 1"
            ).fetchone()
        return None if row is None else _update(row)

    def pending(self) -> list[Update]:
        """Every pending update, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, agent_id, task_id, kind, body FROM updates ORDER BY seq"
            ).fetchall()
        return [_update(row) for row in rows]

    def remove(self, seq: int) -> None:
        """Forgets a delivered update."""
        with self._lock:
            self._db.execute("DELETE FROM updates WHERE seq = ?", (seq,))

    def settle(self, seqs: Sequence[int], rest: tuple[int, UpdateBody] | None = None) -> None:
        """Forgets delivered updates and keeps what is left of one delivered in part, in one
        transaction (a crash leaves both or neither)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("DELETE FROM updates WHERE seq = ?", [(s,) for s in seqs])
                if rest is not None:
                    seq, body = rest
                    self._db.execute(
                        "UPDATE updates SET body = ? WHERE seq = ?", (body.model_dump_json(), seq)
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def drop_task(self, task_id: int, attempt: int | None = None) -> int:
        """Forgets every pending update of a task (of one attempt when given); returns how many."""
        with self._lock:
            if attempt is None:
                cursor = self._db.execute("DELETE FROM updates WHERE task_id = ?", (task_id,))
            else:
                cursor = self._db.execute(
                    "DELETE FROM updates WHERE task_id = ? AND attempt = ?", (task_id, attempt)
                )
            return cursor.rowcount

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM updates").fetchone()
        return int(count)

    def waiting(self) -> tuple[int, bool]:
        """How many updates are pending, and whether a complete or fail is among them."""
        with self._lock:
            count, reports = self._db.execute(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE kind IN (?, ?)) FROM updates",
                (UpdateKind.COMPLETE.value, UpdateKind.FAIL.value),
            ).fetchone()
        return int(count), bool(reports)


def _update(row: tuple[int, str, int, str, str]) -> Update:
    seq, agent_id, task_id, kind, body = row
    model = _MODELS[UpdateKind(kind)]
    return Update(seq, agent_id, task_id, model.model_validate_json(body))


@dataclass
class Backoff:
    """Growing pauses after failures: ``first``, doubled each time, at most ``most``."""

    first: float = 1.0
    most: float = 30.0
    _next: float = field(default=0.0, init=False)

    def next(self) -> float:
        """The pause to take now; the next one is twice as long."""
        delay = self._next or self.first
        self._next = min(delay * 2, self.most)
        return delay

    def reset(self) -> None:
        """Starts again from ``first`` after a success."""
        self._next = 0.0


class NewsChannel(Protocol):
    """How progress and log rows go when not one call each (``cloud_agent.updates``)."""

    def pause(self, pending: int, report_waits: bool) -> float:
        """How long the sender may sleep, given how many rows wait and whether a report does."""
        ...

    def send_due(self, outbox: Outbox) -> bool | None:
        """Sends what is due: None when nothing was, True when sent, False to try later."""
        ...


class NextWork(Protocol):
    """Who runs the task a completion's answer carries (the agent; protocol 3)."""

    def wanted(self, agent_id: str) -> bool:
        """Whether a completion sent as ``agent_id`` should ask for the next task now."""
        ...

    def take(self, agent_id: str, assignment: TaskAssignment) -> None:
        """Keeps the next task, leased to ``agent_id``, for the main loop; called before the
        report leaves the queue."""
        ...


TaskLostCallback = Callable[[int, int, str], None]
"""Called with (task_id, attempt, reason) when the daemon says a task is no longer ours."""


class Outbox:
    """Delivers the store's updates in order, on its own sender thread.

    ``put`` and ``drop_task`` may be called from any thread. ``deliver_pending`` is the sender's
    one pass; tests call it directly instead of starting the thread.
    """

    def __init__(
        self,
        store: OutboxStore,
        sink: UpdateSink,
        *,
        on_task_lost: TaskLostCallback | None = None,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        server_error_attempts: int = 5,
    ) -> None:
        """Wires the queue to the daemon.

        Args:
            store: the persistent queue.
            sink: the daemon client (or anything with its four update calls).
            on_task_lost: told when the daemon refuses a task's update with ``TaskNotYours``
                or ``NotFound``; called on the sender thread.
            backoff_s: the first pause after a retryable error; it doubles up to
                ``max_backoff_s``.
            server_error_attempts: how often an update refused with an unexpected server error
                is tried before it is given up.
        """
        self.store = store
        self.sink = sink
        self.on_task_lost = on_task_lost
        self.server_error_attempts = server_error_attempts
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost: set[tuple[int, int]] = set()
        self._failures: dict[int, int] = {}
        self._backoff = Backoff(first=backoff_s, most=max_backoff_s)
        self.last_error: CloudburstError | Exception | None = None
        self._generation = 0
        """Counts the queue's changes, so the sender misses none while it decides to sleep."""
        self.quiet: NewsChannel | None = None
        """Set when the daemon speaks version 2 (``cloud_agent.updates``): progress and log
        rows then go as one update per interval; complete and fail as before."""
        self.next_work: NextWork | None = None
        """Set when the daemon speaks version 3: a completion that is the last update waiting
        asks for the agent's next task, and hands it over before it leaves the queue."""
        self._asked_next: set[int] = set()
        """The completions (by ``seq``) sent asking for the next task, until they leave."""

    # --- any thread --------------------------------------------------------------------------

    def put(self, agent_id: str, task_id: int, body: UpdateBody) -> None:
        """Queues an update; updates of an attempt already lost are ignored."""
        with self._changed:
            if (task_id, body.attempt) in self._lost:
                logger.debug("task %s: dropping %s of a lost attempt", task_id, kind_of(body))
                return
            self.store.put(agent_id, task_id, body)
            self._news()

    def drop_all(self, task_id: int, attempts: Iterable[int] = ()) -> int:
        """Drops the pending updates of a task the daemon took back, of ``attempts`` and of
        every attempt pending, and ignores any later ones."""
        pending = {u.attempt for u in self.store.pending() if u.task_id == task_id}
        return sum(self.drop_task(task_id, a) for a in sorted(pending.union(attempts)))

    def drop_task(self, task_id: int, attempt: int) -> int:
        """Drops the pending updates of a task's attempt and ignores any later ones."""
        with self._changed:
            self._lost.add((task_id, attempt))
            dropped = self.store.drop_task(task_id, attempt)
            self._news()
        if dropped:
            logger.info(
                "task %s: dropped %d pending update(s) of attempt %s", task_id, dropped, attempt
            )
        return dropped

    def __len__(self) -> int:
        return len(self.store)

    def wait_empty(self, timeout: float) -> bool:
        """Waits until every update is delivered (or dropped); False when ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.store):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def start(self) -> None:
        """Starts the sender thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def _news(self) -> None:
        """Wakes whoever waits for the queue to change; the caller holds ``_changed``."""
        self._generation += 1
        self._changed.notify_all()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the sender thread; undelivered updates stay in the store for the next run."""
        self._stop.set()
        with self._changed:
            self._news()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # --- the sender thread ---------------------------------------------------------------------

    def deliver_pending(self) -> bool:
        """Sends updates in order until the queue is empty or the daemon cannot take them.

        With a ``quiet`` channel, progress and log rows wait for the channel's next update
        (sent at once when a complete or fail waits behind them); reports go one by one.
        Runs on the sender thread (or a test's thread).

        Returns:
            True when nothing more can be sent now; False when an update must wait to be
            resent (it stays first in the queue).
        """
        while not self._stop.is_set():
            update = self.store.first()
            quiet = self.quiet
            if quiet is not None and (update is None or update.kind in NEWS):
                sent = quiet.send_due(self)
                if sent is None:
                    return True
                if not sent:
                    return False
                continue
            if update is None:
                return True
            if not self._deliver(update):
                return False
        return False

    def _deliver(self, update: Update) -> bool:
        """Sends one update by its own call; False when it must wait to be resent."""
        try:
            self._send(update)
        except (TaskNotYours, NotFound) as exc:
            self._forget(update, exc)
            return True
        except CloudburstError as exc:
            if exc.retryable:
                self.note_retry(f"{update.kind} of task {update.task_id}", exc)
                return False
            if isinstance(exc, UserFacingError):  # a 4xx: resending cannot help
                logger.warning(
                    "task %s: the daemon refused %s (%s); giving it up",
                    update.task_id,
                    update.kind,
                    exc,
                )
            elif not self._count_failure(update.seq, exc):
                return False
        except Exception as exc:  # a bug or an unexpected transport error
            logger.exception("task %s: sending %s failed", update.task_id, update.kind)
            if not self._count_failure(update.seq, exc):
                return False
        self._done(update)
        return True

    def _send(self, update: Update) -> None:
        body, agent_id, task_id = update.body, update.agent_id, update.task_id
        if isinstance(body, TaskProgress):
            self.sink.progress(agent_id, task_id, body)
        elif isinstance(body, TaskLogChunk):
            self.sink.append_log(agent_id, task_id, body)
        elif isinstance(body, TaskDone):
            ahead = self.next_work
            # A resend of a completion that asked asks again: the daemon answers it with the
            # task it leased for the lost answer (given back if the agent is stopping by now).
            ask = ahead is not None and (
                update.seq in self._asked_next or (len(self.store) == 1 and ahead.wanted(agent_id))
            )
            if ask:
                self._asked_next.add(update.seq)
            sent = body.model_copy(update={"lease_next": True}) if ask else body
            following = self.sink.complete(agent_id, task_id, sent)
            if ahead is not None and ask and following is not None:
                ahead.take(agent_id, following)
        else:
            self.sink.fail(agent_id, task_id, body)
        if update.kind in (UpdateKind.COMPLETE, UpdateKind.FAIL):
            logger.info("task %s: agent %s reported %s", task_id, agent_id, update.kind)

    def _done(self, update: Update) -> None:
        self._settle([update.seq])

    def accepted(self, carried: Sequence[int], rest: tuple[int, UpdateBody] | None = None) -> None:
        """Forgets the rows an update carried (and keeps the rest of one it carried in part)."""
        self._settle(carried, rest)

    def _settle(self, seqs: Sequence[int], rest: tuple[int, UpdateBody] | None = None) -> None:
        for seq in seqs:
            self._failures.pop(seq, None)
            self._asked_next.discard(seq)
        self._backoff.reset()
        self.last_error = None
        with self._changed:
            self.store.settle(seqs, rest)
            self._news()

    def _forget(self, update: Update, exc: CloudburstError) -> None:
        logger.warning(
            "task %s: the daemon says attempt %s is not agent %s's (%s); dropping its updates",
            update.task_id,
            update.attempt,
            update.agent_id,
            exc,
        )
        self.drop_task(update.task_id, update.attempt)
        self._done(update)
        if self.on_task_lost is not None:
            self.on_task_lost(update.task_id, update.attempt, exc.message)

    def note_retry(self, what: str, exc: Exception) -> None:
        """Notes a failed send that will be tried again (logged once per outage)."""
        if self.last_error is None:
            logger.warning(
                "cannot deliver the %s (%s); keeping the %d pending update(s) in order",
                what,
                exc,
                len(self.store),
            )
        self.last_error = exc

    def _count_failure(self, seq: int, exc: Exception) -> bool:
        """Counts a failed send of the update at ``seq``; True once it must be given up."""
        count = self._failures.get(seq, 0) + 1
        self._failures[seq] = count
        if count < self.server_error_attempts:
            self.note_retry(f"update {seq}", exc)
            return False
        logger.error("giving up update %s after %d failed attempts (%s)", seq, count, exc)
        return True

    def count_failure(
        self, carried: Sequence[int], rest: tuple[int, UpdateBody] | None, exc: Exception
    ) -> bool:
        """Counts a failed send of a channel's update; gives its rows up after too many.

        Returns:
            True when they were given up (the pass goes on); False: try again later.
        """
        seqs = list(carried) or ([rest[0]] if rest else [])
        if seqs and not self._count_failure(seqs[0], exc):
            return False
        self.accepted(carried, rest)
        return True

    def next_delay(self) -> float:
        """The pause before the next try after a failed pass; it doubles each time."""
        return self._backoff.next()

    def _run(self) -> None:
        """The sender thread: delivers, waits for news, backs off after failures."""
        while not self._stop.is_set():
            with self._changed:
                seen = self._generation
            pause = self._pause()  # outside the lock: a quiet channel asks the agent
            if pause > 0:
                with self._changed:
                    if self._generation == seen:
                        self._changed.wait(pause)
                continue
            if not self.deliver_pending():
                self._stop.wait(self.next_delay())

    def _pause(self) -> float:
        """How long the sender may sleep (woken by ``put``); 0: send now."""
        quiet = self.quiet
        if quiet is not None:
            return quiet.pause(*self.store.waiting())
        return 0.0 if len(self.store) else 1.0
