"""The daemon's own log records (``daemon_logs``) and searches of the task logs by job."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils


def insert_records(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]]) -> None:
    db.conn.executemany(
        "INSERT INTO daemon_logs (time, level, service, message, job_id, task_id, agent_id)"
        " VALUES (:time, :level, :service, :message, :job_id, :task_id, :agent_id)",
        list(rows),
    )


def trim(db: sqlite_utils.Database, keep: int, before: float) -> int:
    """Deletes records older than ``before`` and all but the newest ``keep``."""
    cursor = db.execute(
        "DELETE FROM daemon_logs WHERE time < ? OR id <= "
        "(SELECT coalesce(max(id), 0) FROM daemon_logs) - ?",
        [before, keep],
    )
    return cursor.rowcount


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def query_daemon(
    db: sqlite_utils.Database, filters: dict[str, Any], offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of records matching ``filters`` (newest first) and how many match in all.

    ``filters`` may hold job_id, task_id, agent_id, service (a logger name or its prefix),
    level (the lowest number), since and until (epoch seconds) and contains (text).
    """
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    for name in ("job_id", "task_id", "agent_id"):
        if filters.get(name) is not None:
            where.append(f"{name} = ?")
            args.append(filters[name])
    if filters.get("service"):
        where.append("(service = ? OR service LIKE ? ESCAPE '\\')")
        args += [filters["service"], _like(filters["service"] + ".")[1:]]
    if filters.get("level") is not None:
        where.append("level >= ?")
        args.append(filters["level"])
    if filters.get("since") is not None:
        where.append("time >= ?")
        args.append(filters["since"])
    if filters.get("until") is not None:
        where.append("time < ?")
        args.append(filters["until"])
    if filters.get("contains"):
        where.append("message LIKE ? ESCAPE '\\'")
        args.append(_like(filters["contains"]))
    clause = " AND ".join(where)
    total = next(iter(db.query(f"SELECT count(*) AS n FROM daemon_logs WHERE {clause}", args)))
    rows = db.query(
        f"SELECT * FROM daemon_logs WHERE {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return list(rows), int(total["n"])


def query_tasks(
    db: sqlite_utils.Database,
    job_id: int,
    task_id: int | None,
    contains: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of a job's task log chunks in log order, and how many match in all."""
    where: list[str] = ["t.job_id = ?"]
    args: list[Any] = [job_id]
    if task_id is not None:
        where.append("l.task_id = ?")
        args.append(task_id)
    if contains:
        where.append("l.text LIKE ? ESCAPE '\\'")
        args.append(_like(contains))
    clause = " AND ".join(where)
    base = f"FROM task_logs l JOIN tasks t ON t.id = l.task_id WHERE {clause}"
    total = next(iter(db.query(f"SELECT count(*) AS n {base}", args)))
    rows = db.query(
        f"SELECT l.rowid AS id, l.task_id, l.attempt, l.text, t.job_id, t.agent_id {base}"
        " ORDER BY l.task_id, l.attempt, l.offset LIMIT ? OFFSET ?",
        [*args, limit, offset],
    )
    return list(rows), int(total["n"])
