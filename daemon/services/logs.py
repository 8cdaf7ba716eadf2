"""The daemon's log records kept in SQLite, and searching them and the task logs.

``DatabaseLogHandler`` is a ``logging.Handler``: ``emit`` only puts the record on a queue (no
I/O on the logging thread, so never on a request's path); a writer thread stores what the queue
holds every ``logs.flush_interval_s`` in one transaction. ``LogService.trim`` keeps the table
bounded by count and age, and ``LogService.purge_task_logs`` deletes the task logs of jobs
finished longer ago than ``logs.task_log_keep_s``; APScheduler triggers both. The task logs are
files, each capped as it is written (``daemon.storage.task_logs``); a search of them reads a
job's files line by line, up to ``SEARCH_CHARS``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from common.errors import InvalidInput
from common.models import LogEntry, LogPage, LogQuery, LogSource
from daemon.context import Context, to_datetime
from daemon.storage import Database
from daemon.storage import logs as store
from daemon.storage.task_logs import Span

logger = logging.getLogger(__name__)

_ID = re.compile(r"\b(job_id|task_id|agent_id)=([\w-]+)")
MAX_MESSAGE = 10_000
#: Jobs with logs the retention looks up in the database at a time.
PURGE_BATCH = 200
#: Characters of a job's task logs one search reads at most (a job's logs past it are not
#: searched: give a task_id to search one task's).
SEARCH_CHARS = 64_000_000


def record_row(record: logging.LogRecord) -> dict[str, Any]:
    """The row stored for ``record``: ids from ``extra={...}`` or from ``job_id=7`` in the text."""
    message = record.getMessage()
    if record.exc_info and record.exc_info[0] is not None:
        message += "\n" + logging.Formatter().formatException(record.exc_info)
    ids: dict[str, Any] = {name: getattr(record, name, None) for name in ("job_id", "task_id",
                                                                          "agent_id")}  # fmt: skip
    for name, value in _ID.findall(message):
        if ids[name] is None:
            ids[name] = value
    for name in ("job_id", "task_id"):
        value = ids[name]
        ids[name] = int(value) if isinstance(value, int | str) and str(value).isdigit() else None
    agent = ids["agent_id"]
    return {
        "time": record.created, "level": record.levelno, "service": record.name,
        "message": message[:MAX_MESSAGE], "job_id": ids["job_id"], "task_id": ids["task_id"],
        "agent_id": None if agent is None else str(agent),
    }  # fmt: skip


class DatabaseLogHandler(logging.Handler):
    """Batches log records into ``daemon_logs`` off the logging thread."""

    def __init__(self, database: Database, interval_s: float = 1.0, level: int = 0) -> None:
        super().__init__(level)
        self.database = database
        self.interval_s = interval_s
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Any thread: queues the record; never blocks on the database."""
        if record.name.startswith("daemon.storage"):
            return  # the handler's own writes must not log into themselves
        try:
            self._queue.put(record_row(record))
        except Exception:
            self.handleError(record)

    def start(self) -> None:
        """Starts the writer thread (the daemon's entry point calls this)."""
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def flush(self) -> None:
        """Stores every queued record now, in one transaction."""
        rows = []
        while True:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if rows:
            with self.database.transaction() as db:
                store.insert_records(db, rows)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
        super().close()

    def _run(self) -> None:
        """The writer thread."""
        while not self._stop.wait(self.interval_s):
            with contextlib.suppress(Exception):  # a busy database must not end the thread
                self.flush()


class LogService:
    """Searches the daemon's records and the task logs; trims the records."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def search(self, query: LogQuery) -> LogPage:
        """A page of entries matching ``query`` (daemon records newest first)."""
        db = self.ctx.database.db
        if query.source is LogSource.TASK:
            if query.job_id is None:
                raise InvalidInput("Searching task logs needs a job_id.")
            return self._search_tasks(query.job_id, query)
        filters: dict[str, Any] = query.model_dump(
            include={"job_id", "task_id", "agent_id", "service", "contains"}
        )
        filters["level"] = logging.getLevelName(query.level) if query.level else None
        filters["since"] = query.since.timestamp() if query.since else None
        filters["until"] = query.until.timestamp() if query.until else None
        rows, total = store.query_daemon(db, filters, query.offset, query.limit)
        items = [_daemon_entry(row) for row in rows]
        end = query.offset + len(items)
        return LogPage(items=items, total=total, next_offset=end if end < total else None)

    def _search_tasks(self, job_id: int, query: LogQuery) -> LogPage:
        """A page of the lines of the job's task logs (one task's, with ``task_id``) that hold
        ``contains`` (any case), in log order; an entry's id is the line's character offset
        in its attempt's log. Reads at most ``SEARCH_CHARS`` of the job's logs."""
        needle = (query.contains or "").lower()
        page: list[Span] = []
        total = 0
        for line in log_lines(self.ctx.task_logs.spans(job_id, query.task_id), SEARCH_CHARS):
            if needle in line.text.lower():
                if query.offset <= total < query.offset + query.limit:
                    page.append(line)
                total += 1
        agents = store.task_agents(self.ctx.database.db, (line.task_id for line in page))
        items = [_task_entry(job_id, line, agents.get(line.task_id)) for line in page]
        end = query.offset + len(items)
        return LogPage(items=items, total=total, next_offset=end if end < total else None)

    def trim(self, now: float | None = None) -> int:
        """Keeps the newest ``logs.keep_records`` records younger than ``logs.keep_s``."""
        now = self.ctx.now() if now is None else now
        keep = self.ctx.settings.logs
        with self.ctx.database.transaction() as db:
            return store.trim(db, keep.keep_records, now - keep.keep_s)

    def purge_task_logs(self, now: float | None = None) -> int:
        """Deletes the task logs of jobs finished more than ``logs.task_log_keep_s`` ago (and
        of jobs no longer in the database); returns how many tasks lost their logs. Reads the
        database only: the logs are files."""
        now = self.ctx.now() if now is None else now
        before = now - self.ctx.settings.logs.task_log_keep_s
        logs = self.ctx.task_logs
        with_logs = logs.job_ids()
        purged = 0
        for first in range(0, len(with_logs), PURGE_BATCH):
            batch = with_logs[first : first + PURGE_BATCH]
            for job_id in store.expired_jobs(self.ctx.database.db, batch, before):
                purged += logs.delete_job(job_id)
        if purged:
            logger.info("Deleted the logs of %d task(s) of jobs finished long ago", purged)
        return purged


def log_lines(spans: Iterable[Span], budget: int) -> Iterator[Span]:
    """The lines of the spans, each at its offset, without its newline; a line ends at a gap,
    at the end of its attempt's log and after ``MAX_MESSAGE`` characters. Reads no further
    span once ``budget`` characters were read."""
    pending: Span | None = None
    for span in spans:
        if budget <= 0:
            break
        budget -= len(span.text)
        text, offset = span.text, span.offset
        if pending is not None:
            if (pending.task_id, pending.attempt, pending.offset + len(pending.text)) == (
                span.task_id, span.attempt, span.offset
            ):  # fmt: skip
                text, offset = pending.text + text, pending.offset
            else:
                yield pending
            pending = None
        start = 0
        while True:
            stop = text.find("\n", start, start + MAX_MESSAGE + 1)
            if stop < 0 and len(text) - start <= MAX_MESSAGE:
                break
            end = stop if stop >= 0 else start + MAX_MESSAGE
            yield Span(span.task_id, span.attempt, offset + start, text[start:end])
            start = end + 1 if stop >= 0 else end
        if start < len(text):
            pending = Span(span.task_id, span.attempt, offset + start, text[start:])
    if pending is not None:
        yield pending


def _daemon_entry(row: dict[str, Any]) -> LogEntry:
    return LogEntry(
        id=row["id"], source=LogSource.DAEMON, time=to_datetime(row["time"]),
        level=logging.getLevelName(row["level"]), service=row["service"],
        message=row["message"], job_id=row["job_id"], task_id=row["task_id"],
        agent_id=row["agent_id"],
    )  # fmt: skip


def _task_entry(job_id: int, line: Span, agent_id: str | None) -> LogEntry:
    return LogEntry(
        id=line.offset, source=LogSource.TASK, time=None, level="INFO", service="task",
        message=line.text, job_id=job_id, task_id=line.task_id, agent_id=agent_id,
        attempt=line.attempt,
    )  # fmt: skip
