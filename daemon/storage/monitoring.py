"""The agents' last reported load, the counts the farm's metrics are made of, and the farm's
samples over time (its history)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def record_load(db: sqlite_utils.Database, agent_id: str, load: dict[str, Any], now: float) -> None:
    """Keeps the latest load of ``agent_id`` (one row per agent)."""
    db.execute(
        "INSERT INTO agent_load (agent_id, cpu_percent, memory_percent, gpu_percent,"
        " disk_free_mb, reported_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (agent_id) DO UPDATE SET cpu_percent = excluded.cpu_percent,"
        " memory_percent = excluded.memory_percent, gpu_percent = excluded.gpu_percent,"
        " disk_free_mb = excluded.disk_free_mb, reported_at = excluded.reported_at",
        [agent_id, load.get("cpu_percent"), load.get("memory_percent"),
         load.get("gpu_percent"), load.get("disk_free_mb"), now],
    )  # fmt: skip


def latest_loads(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """Every agent's last reported load, by agent id (agents that reported none are absent)."""
    rows = db.query(
        "SELECT agent_id, cpu_percent, memory_percent, gpu_percent, reported_at FROM agent_load"
    )
    return {row["agent_id"]: row for row in rows}


def agents_with_load(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every agent with its last load (NULLs where none came) and its leased/running tasks."""
    return list(
        db.query(
            "SELECT a.id, a.name, a.pool, a.state, l.cpu_percent, l.memory_percent,"
            " l.gpu_percent, l.disk_free_mb, l.reported_at,"
            " (SELECT count(*) FROM tasks t WHERE t.agent_id = a.id"
            "  AND t.state IN ('leased', 'running')) AS running_tasks"
            " FROM agents a LEFT JOIN agent_load l ON l.agent_id = a.id ORDER BY a.name, a.id"
        )
    )


def task_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Tasks of unfinished jobs by state (queued, leased, running), from the counts the
    triggers keep: a job that ended failed with tasks never started has none in the queue."""
    rows = db.query(
        "SELECT c.state, sum(c.n) AS n FROM job_task_counts c JOIN jobs j ON j.id = c.job_id"
        " WHERE c.state IN ('queued', 'leased', 'running')"
        " AND j.state NOT IN ('succeeded', 'failed', 'cancelled') GROUP BY c.state"
    )
    return {row["state"]: row["n"] for row in rows}


def job_counts(db: sqlite_utils.Database) -> dict[str, int]:
    rows = db.query("SELECT state, count(*) AS n FROM jobs GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


def frames_done_since(db: sqlite_utils.Database, since: float) -> int:
    """Frames of tasks that finished as done at or after ``since``."""
    row = next(
        iter(
            db.query(
                "SELECT coalesce(sum(frame_count), 0) AS n FROM tasks"
                " WHERE state = 'done' AND finished_at >= ?",
                [since],
            )
        )
    )
    return int(row["n"])


def agents_online_and_busy(db: sqlite_utils.Database) -> tuple[int, int]:
    """Online agents, and those of them holding a leased or running task."""
    row = db.conn.execute(
        "SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM tasks t WHERE t.agent_id = a.id"
        " AND t.state IN ('leased', 'running'))), 0) FROM agents a WHERE a.state = 'online'"
    ).fetchone()
    return int(row[0]), int(row[1])


def queue_depth(db: sqlite_utils.Database) -> int:
    """Queued tasks of the jobs that may still run (not those of paused or finished jobs)."""
    row = db.conn.execute(
        "SELECT coalesce(sum(c.n), 0) FROM job_task_counts c JOIN jobs j ON j.id = c.job_id"
        " WHERE c.state = 'queued' AND j.state IN ('queued', 'running', 'waiting')"
    ).fetchone()
    return int(row[0])


def record_sample(
    db: sqlite_utils.Database, at: float, figures: dict[str, int], spend: dict[str, float]
) -> None:
    """Stores the farm at ``at``: ``figures`` (agents_online, agents_busy, queue_depth,
    frames_per_hour) and each show's cloud spend so far."""
    db.execute(
        "INSERT OR REPLACE INTO farm_samples (at, agents_online, agents_busy, queue_depth,"
        " frames_per_hour) VALUES (:at, :agents_online, :agents_busy, :queue_depth,"
        " :frames_per_hour)",
        {"at": at, **figures},
    )
    db.conn.executemany(
        "INSERT OR REPLACE INTO farm_spend_samples (at, project, spent) VALUES (?, ?, ?)",
        [(at, project, spent) for project, spent in spend.items()],
    )


def purge_samples(db: sqlite_utils.Database, before: float) -> int:
    """Drops the samples older than ``before`` (their spend goes with them)."""
    return db.execute("DELETE FROM farm_samples WHERE at < ?", [before]).rowcount


def samples(db: sqlite_utils.Database, since: float, until: float) -> list[dict[str, Any]]:
    """The samples from ``since`` to ``until``, oldest first."""
    return list(
        db.query("SELECT * FROM farm_samples WHERE at >= ? AND at <= ? ORDER BY at", [since, until])
    )


def spend_samples(db: sqlite_utils.Database, since: float, until: float) -> list[dict[str, Any]]:
    """Each show's spend at each sample from ``since`` to ``until``, by show, oldest first."""
    return list(
        db.query(
            "SELECT at, project, spent FROM farm_spend_samples WHERE at >= ? AND at <= ?"
            " ORDER BY project, at",
            [since, until],
        )
    )
