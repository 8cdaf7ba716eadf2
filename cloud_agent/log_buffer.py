"""``LogBuffer`` turns a render's output lines into log chunks queued in the outbox (about every
half second, or every few kilobytes), each carrying its character offset in the attempt's log so
that a resend is harmless."""

from __future__ import annotations

import time
from collections.abc import Callable

from cloud_agent.outbox import Outbox
from common.models import TaskLogChunk


class LogBuffer:
    """Batches one attempt's log lines into chunks queued in the outbox.

    Used by the agent's main thread only (the process runner's line and tick callbacks).
    """

    def __init__(
        self,
        outbox: Outbox,
        agent_id: str,
        task_id: int,
        attempt: int,
        *,
        max_chars: int = 16 * 1024,
        max_delay_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Starts an empty log at offset 0.

        Args:
            max_chars: a chunk is queued once this much text is waiting.
            max_delay_s: a chunk is queued once its first line has waited this long.
        """
        self.outbox = outbox
        self.agent_id = agent_id
        self.task_id = task_id
        self.attempt = attempt
        self.max_chars = max_chars
        self.max_delay_s = max_delay_s
        self._clock = clock
        self._parts: list[str] = []
        self._size = 0
        self._since: float | None = None
        self.offset = 0
        """Characters of this attempt's log already queued."""

    def add(self, line: str) -> None:
        """Adds one line (its line ending is added here); queues a chunk when one is due."""
        if self._since is None:
            self._since = self._clock()
        self._parts.append(line + "\n")
        self._size += len(line) + 1
        if self._size >= self.max_chars:
            self.flush()
        else:
            self.flush_if_due()

    def flush_if_due(self) -> None:
        """Queues the waiting text if its first line has waited ``max_delay_s``."""
        if self._since is not None and self._clock() - self._since >= self.max_delay_s:
            self.flush()

    def flush(self) -> None:
        """Queues the waiting text now, in pieces that fit a log chunk."""
        if not self._parts:
            return
        text = "".join(self._parts)
        self._parts, self._size, self._since = [], 0, None
        limit = max(self.max_chars, 1)
        for start in range(0, len(text), limit):
            piece = text[start : start + limit]
            self.outbox.put(
                self.agent_id,
                self.task_id,
                TaskLogChunk(attempt=self.attempt, offset=self.offset, text=piece),
            )
            self.offset += len(piece)
