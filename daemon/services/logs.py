"""The daemon's log records kept in SQLite, and searching them and the task logs.

``DatabaseLogHandler`` is a ``logging.Handler``: ``emit`` only puts the record on a queue (no
I/O on the logging thread, so never on a request's path); a writer thread stores what the queue
holds every ``logs.flush_interval_s`` in one transaction. ``LogService.trim`` keeps the table
bounded by count and age, and ``LogService.purge_task_logs`` deletes the task logs of jobs
finished longer ago than ``logs.task_log_keep_s``; APScheduler triggers both. Each task log is
capped as it is written (``log_cap``, ``daemon.storage.task_logs``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
from typing import Any

from common.errors import InvalidInput
from common.models import LogEntry, LogPage, LogQuery, LogSource
from common.ops_settings import LogSettings
from daemon.context import Context, to_datetime
from daemon.storage import Database, task_logs
from daemon.storage import logs as store
from daemon.storage.task_logs import LogCap

logger = logging.getLogger(__name__)

_ID = re.compile(r"\b(job_id|task_id|agent_id)=([\w-]+)")
MAX_MESSAGE = 10_000
#: Tasks whose logs one transaction of the retention deletes (the write lock is held that long).
PURGE_BATCH = 200


def log_cap(settings: LogSettings) -> LogCap:
    """How much of each task's log is kept."""
    return LogCap(
        max_chars=settings.task_log_max_chars,
        head_chars=settings.task_log_head_chars,
        attempts=settings.task_log_attempts,
    )


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
            rows, total = store.query_tasks(
                db, query.job_id, query.task_id, query.contains, query.offset, query.limit
            )
            items = [_task_entry(row) for row in rows]
        else:
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

    def trim(self, now: float | None = None) -> int:
        """Keeps the newest ``logs.keep_records`` records younger than ``logs.keep_s``."""
        now = self.ctx.now() if now is None else now
        keep = self.ctx.settings.logs
        with self.ctx.database.transaction() as db:
            return store.trim(db, keep.keep_records, now - keep.keep_s)

    def purge_task_logs(self, now: float | None = None) -> int:
        """Deletes the task logs of jobs finished more than ``logs.task_log_keep_s`` ago, a
        batch of tasks per transaction; returns how many tasks lost their logs."""
        now = self.ctx.now() if now is None else now
        before = now - self.ctx.settings.logs.task_log_keep_s
        purged = 0
        while True:
            with self.ctx.database.transaction() as db:
                tasks = task_logs.expired_tasks(db, before, PURGE_BATCH)
                task_logs.delete_logs(db, tasks)
            purged += len(tasks)
            if len(tasks) < PURGE_BATCH:
                break
        if purged:
            logger.info("Deleted the logs of %d task(s) of jobs finished long ago", purged)
        return purged


def _daemon_entry(row: dict[str, Any]) -> LogEntry:
    return LogEntry(
        id=row["id"], source=LogSource.DAEMON, time=to_datetime(row["time"]),
        level=logging.getLevelName(row["level"]), service=row["service"],
        message=row["message"], job_id=row["job_id"], task_id=row["task_id"],
        agent_id=row["agent_id"],
    )  # fmt: skip


def _task_entry(row: dict[str, Any]) -> LogEntry:
    return LogEntry(
        id=row["id"], source=LogSource.TASK, time=None, level="INFO", service="task",
        message=row["text"], job_id=row["job_id"], task_id=row["task_id"],
        agent_id=row["agent_id"], attempt=row["attempt"],
    )  # fmt: skip
