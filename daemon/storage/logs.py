"""The daemon's own log records (``daemon_logs``), and what the task logs need to know of
tasks and jobs (the logs themselves are files: ``task_logs.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
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


def task_agents(db: sqlite_utils.Database, task_ids: Iterable[int]) -> dict[int, str | None]:
    """The agent each of these tasks is (or was last) with."""
    rows = db.conn.execute(
        "SELECT id, agent_id FROM tasks WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(set(task_ids)))],
    )
    return {int(task_id): agent_id for task_id, agent_id in rows}


def expired_jobs(db: sqlite_utils.Database, job_ids: Sequence[int], before: float) -> list[int]:
    """Of ``job_ids``, those whose logs the retention deletes: finished before ``before``, or
    no longer in the database (a deleted job's late log)."""
    rows = db.conn.execute(
        "SELECT ids.value FROM json_each(?) AS ids WHERE NOT EXISTS (SELECT 1 FROM jobs j"
        " WHERE j.id = ids.value AND (j.finished_at IS NULL OR j.finished_at >= ?))",
        [json.dumps(list(job_ids)), before],
    )
    return [int(row[0]) for row in rows]
