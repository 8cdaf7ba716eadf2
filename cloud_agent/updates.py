"""The quiet agent protocol (version 2): one update every few seconds, not a call per report.

A daemon that answers ``GET /agents/protocol`` with version 2 or later takes ``AgentUpdate``: the
heartbeat's fields and, per task, the newest progress and the log text since the last update.
The outbox keeps every progress value and log chunk as before (in order, on disk); on the
outbox's sender thread, ``QuietChannel`` sends one update every ``update_interval_s`` (the
daemon's) carrying them, and the rows are deleted only once the daemon accepted that update, so
an agent restart loses nothing. A complete or fail waiting behind them makes the update go at
once, then the report: completion never waits for the interval. An idle agent sends no updates
(its lease polls keep it seen).

``compose`` is the pure half: which rows one update carries, and the update's tasks.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cloud_agent.outbox import Outbox, Update
from common.errors import CloudburstError, NotFound, UserFacingError
from common.models import (
    AgentProtocol,
    AgentUpdate,
    AgentUpdateReply,
    Heartbeat,
    TaskLogChunk,
    TaskLogPiece,
    TaskProgress,
    TaskUpdate,
)

logger = logging.getLogger(__name__)

#: The most log pieces one task's update carries (the wire model's bound).
MAX_PIECES = 64
#: The most text one log piece carries (the wire model's bound).
MAX_PIECE_CHARS = 1_000_000
#: Bounds on the daemon's interval: a daemon cannot make its agents hammer it or fall silent.
INTERVAL_BOUNDS_S = (0.5, 30.0)


@dataclass(frozen=True)
class Batch:
    """What one update carries from the outbox."""

    agent_id: str | None
    """The agent id the rows were made under; None when no row is carried."""
    tasks: list[TaskUpdate]
    carried: list[int]
    """The rows the update carries whole: deleted once the daemon accepted it."""
    rest: tuple[int, TaskLogChunk] | None = None
    """A log row carried in part, and what of it waits for the next update."""

    @property
    def attempts(self) -> list[tuple[int, int]]:
        """The (task id, attempt) pairs the update speaks of."""
        return [(task.task_id, task.attempt) for task in self.tasks]


@dataclass
class _Draft:
    progress: TaskProgress | None = None
    pieces: list[TaskLogPiece] = field(default_factory=list)

    def add_log(self, offset: int, text: str) -> bool:
        """Appends text at ``offset``; False when the update has no room for another piece."""
        last = self.pieces[-1] if self.pieces else None
        if (
            last is not None
            and last.offset + len(last.text) == offset
            and len(last.text) + len(text) <= MAX_PIECE_CHARS
        ):
            self.pieces[-1] = TaskLogPiece(offset=last.offset, text=last.text + text)
            return True
        if len(self.pieces) >= MAX_PIECES:
            return False
        self.pieces.append(TaskLogPiece(offset=offset, text=text))
        return True


def compose(pending: Sequence[Update], max_log_chars: int) -> Batch:
    """The next update's content from the outbox's pending rows (oldest first).

    It takes the progress and log rows before the first report (complete, fail) and made under
    the first row's agent id: per attempt, the newest progress and frames done, and the log
    text in stream order, contiguous chunks joined into one piece. At most ``max_log_chars`` of
    log go: a chunk that does not fit is cut, and the rest of it and every later chunk wait for
    the next update (progress rows after them still go: only the newest counts).
    """
    agent_id: str | None = None
    drafts: dict[tuple[int, int], _Draft] = {}
    carried: list[int] = []
    rest: tuple[int, TaskLogChunk] | None = None
    budget = max(max_log_chars, 0)
    log_full = False
    for update in pending:
        body = update.body
        if not isinstance(body, TaskProgress | TaskLogChunk):
            break  # a report: it goes after this update
        if agent_id is None:
            agent_id = update.agent_id
        elif update.agent_id != agent_id:
            break  # made under another registration: a later update, to that id
        draft = drafts.setdefault((update.task_id, update.attempt), _Draft())
        if isinstance(body, TaskProgress):
            draft.progress = body
            carried.append(update.seq)
            continue
        if log_full:
            continue
        take = body.text[:budget]
        if not take or not draft.add_log(body.offset, take):
            log_full = True
            continue
        budget -= len(take)
        if len(take) == len(body.text):
            carried.append(update.seq)
        else:
            remainder = body.text[len(take) :]
            rest = (update.seq, body.model_copy(update={"offset": body.offset + len(take),
                                                         "text": remainder}))  # fmt: skip
            log_full = True
    tasks = [
        TaskUpdate(
            task_id=task_id,
            attempt=attempt,
            progress=draft.progress.progress if draft.progress else None,
            frames_done=draft.progress.frames_done if draft.progress else [],
            log=draft.pieces,
        )
        for (task_id, attempt), draft in drafts.items()
        if draft.progress is not None or draft.pieces
    ]
    return Batch(agent_id, tasks, carried, rest)


class UpdateClient(Protocol):
    """The call of ``DaemonClient`` the channel makes."""

    def updates(self, agent_id: str, update: AgentUpdate) -> AgentUpdateReply: ...


class UpdatePeer(Protocol):
    """The agent, as the channel sees it; called on the outbox's sender thread."""

    def busy(self) -> bool:
        """Whether the daemon must hear from the agent each interval (it holds a task, or the
        node changed), even with no row pending."""
        ...

    def beat(self) -> tuple[str, Heartbeat]:
        """The agent's id now and the heartbeat's fields (held tasks, load, changes)."""
        ...

    def heard(self, beat: Heartbeat, reply: AgentUpdateReply) -> None:
        """The daemon accepted an update carrying ``beat``: stop what it cancels."""
        ...

    def forgotten(self, agent_id: str) -> None:
        """The daemon does not know ``agent_id``: register again."""
        ...


class QuietChannel:
    """Sends the outbox's progress and log rows as one update per interval. Sender thread.

    The outbox asks ``pause`` how long it may sleep and calls ``send_due`` in its pass; tests
    call ``send_due`` themselves with a fake clock.
    """

    def __init__(
        self,
        client: UpdateClient,
        peer: UpdatePeer,
        protocol: AgentProtocol,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.peer = peer
        self.interval_s = _bounded(protocol.update_interval_s)
        self.max_log_chars = max(1, min(protocol.max_log_chars_per_update, MAX_PIECE_CHARS))
        self._clock = clock
        self._sent_at = -math.inf

    def due_in(self) -> float:
        """Seconds until the next update is due (0 or less: due now)."""
        return self._sent_at + self.interval_s - self._clock()

    def pause(self, pending: int, report_waits: bool) -> float:
        """How long the sender may sleep before its next pass (new rows wake it).

        Args:
            pending: how many rows the outbox holds.
            report_waits: whether a complete or fail is among them.
        """
        if report_waits:
            return 0.0
        wait = self.due_in()
        if wait > 0:
            return min(wait, 1.0)
        return 0.0 if pending or self.peer.busy() else 1.0

    def send_due(self, outbox: Outbox) -> bool | None:
        """Sends the update when it is due, or at once when a report waits behind its rows.

        Returns:
            None when nothing was due; True when the update went (or was given up); False when
            it must be tried again later (its rows stay first in the outbox).
        """
        pending = outbox.store.pending()
        reports_wait = any(not _is_news(update) for update in pending)
        news = bool(pending) and _is_news(pending[0])
        if not reports_wait and (self.due_in() > 0 or not (news or self.peer.busy())):
            return None
        batch = compose(pending, self.max_log_chars)
        current_id, beat = self.peer.beat()
        self._sent_at = self._clock()  # a failed try waits an interval too, unless a report waits
        agent_id = batch.agent_id or current_id
        if agent_id != current_id:
            beat = Heartbeat()  # rows of an earlier registration: that id holds nothing now
        update = AgentUpdate(**dict(beat), tasks=batch.tasks)
        try:
            reply = self.client.updates(agent_id, update)
        except NotFound:
            logger.warning("agent %s: the daemon does not know this agent", agent_id)
            for task_id, attempt in batch.attempts:
                outbox.drop_task(task_id, attempt)
            self.peer.forgotten(agent_id)
            return True
        except CloudburstError as exc:
            if exc.retryable:
                outbox.note_retry(f"update of agent {agent_id}", exc)
                return False
            if isinstance(exc, UserFacingError):  # a 4xx: resending cannot help
                logger.warning("agent %s: the daemon refused an update (%s)", agent_id, exc)
                outbox.accepted(batch.carried, batch.rest)
                return True
            return outbox.count_failure(batch.carried, batch.rest, exc)
        except Exception as exc:  # a bug or an unexpected transport error
            logger.exception("agent %s: sending an update failed", agent_id)
            return outbox.count_failure(batch.carried, batch.rest, exc)
        self.interval_s = _bounded(reply.update_interval_s)
        outbox.accepted(batch.carried, batch.rest)
        for task_id in reply.cancel:
            outbox.drop_all(task_id, [a for t, a in batch.attempts if t == task_id])
        if agent_id == current_id:
            self.peer.heard(beat, reply)
        return True


def _is_news(update: Update) -> bool:
    return isinstance(update.body, TaskProgress | TaskLogChunk)


def _bounded(interval_s: float) -> float:
    low, high = INTERVAL_BOUNDS_S
    return min(max(interval_s, low), high)
