"""ShotGrid links of jobs, the values last read from ShotGrid, the sync's state, the outbox."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

UNFINISHED = "('queued', 'waiting', 'running', 'paused')"


@dataclass(frozen=True)
class EntityRecord:
    """One ShotGrid entity as the field mapping reads it."""

    entity_type: str
    entity_id: int
    name: str = ""
    priority: float | None = None
    priority_label: str = ""
    due_at: float | None = None
    status: str = ""
    updated_at: float | None = None


def insert_link(
    db: sqlite_utils.Database,
    job_id: int,
    project_id: int | None,
    entity_type: str | None,
    entity_id: int | None,
    task_id: int | None,
) -> None:
    db.execute(
        "INSERT INTO job_links (job_id, project_id, entity_type, entity_id, task_id)"
        " VALUES (?, ?, ?, ?, ?)",
        [job_id, project_id, entity_type, entity_id, task_id],
    )


def get_link(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM job_links WHERE job_id = ?", [job_id]))
    return rows[0] if rows else None


def linked_ids(db: sqlite_utils.Database, job_ids: Sequence[int]) -> set[int]:
    """Which of these jobs have a ShotGrid link."""
    if not job_ids:
        return set()
    marks = ", ".join("?" * len(job_ids))
    return {
        row[0]
        for row in db.conn.execute(
            f"SELECT job_id FROM job_links WHERE job_id IN ({marks})", list(job_ids)
        )
    }


def linked_entities(db: sqlite_utils.Database) -> dict[str, set[int]]:
    """The ShotGrid entities linked to unfinished jobs, by type."""
    linked: dict[str, set[int]] = defaultdict(set)
    for project_id, entity_type, entity_id, task_id in db.conn.execute(
        "SELECT l.project_id, l.entity_type, l.entity_id, l.task_id FROM job_links l"
        f" JOIN jobs j ON j.id = l.job_id WHERE j.state IN {UNFINISHED}"
    ):
        if project_id is not None:
            linked["Project"].add(project_id)
        if entity_type is not None and entity_id is not None:
            linked[entity_type].add(entity_id)
        if task_id is not None:
            linked["Task"].add(task_id)
    return dict(linked)


def linked_job_count(db: sqlite_utils.Database) -> int:
    row = db.conn.execute(
        "SELECT count(*) FROM job_links l JOIN jobs j ON j.id = l.job_id"
        f" WHERE j.state IN {UNFINISHED}"
    ).fetchone()
    return int(row[0])


def cached_ids(db: sqlite_utils.Database, entity_type: str) -> set[int]:
    return {
        row[0]
        for row in db.conn.execute(
            "SELECT entity_id FROM sg_entities WHERE entity_type = ?", [entity_type]
        )
    }


def get_entity(db: sqlite_utils.Database, entity_type: str, entity_id: int) -> EntityRecord | None:
    rows = list(
        db.query(
            "SELECT entity_type, entity_id, name, priority, priority_label, due_at, status,"
            " updated_at FROM sg_entities WHERE entity_type = ? AND entity_id = ?",
            [entity_type, entity_id],
        )
    )
    return EntityRecord(**rows[0]) if rows else None


def upsert_entities(
    db: sqlite_utils.Database, records: Iterable[EntityRecord], fetched_at: float
) -> int:
    """Stores what was read; returns how many rows changed a value ranking uses."""
    changed = 0
    for r in records:
        before = get_entity(db, r.entity_type, r.entity_id)
        if before is None or (before.priority, before.due_at) != (r.priority, r.due_at):
            changed += 1
        db.execute(
            "INSERT INTO sg_entities (entity_type, entity_id, name, priority, priority_label,"
            " due_at, status, updated_at, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (entity_type, entity_id) DO UPDATE SET name = excluded.name,"
            " priority = excluded.priority, priority_label = excluded.priority_label,"
            " due_at = excluded.due_at, status = excluded.status,"
            " updated_at = excluded.updated_at, fetched_at = excluded.fetched_at",
            [
                r.entity_type, r.entity_id, r.name, r.priority, r.priority_label, r.due_at,
                r.status, r.updated_at, fetched_at,
            ],
        )  # fmt: skip
    return changed


def prune_entities(db: sqlite_utils.Database) -> int:
    """Forgets entities no unfinished job links to any more."""
    linked = linked_entities(db)
    stale = [
        (entity_type, entity_id)
        for entity_type, entity_id in db.conn.execute(
            "SELECT entity_type, entity_id FROM sg_entities"
        )
        if entity_id not in linked.get(entity_type, ())
    ]
    db.conn.executemany("DELETE FROM sg_entities WHERE entity_type = ? AND entity_id = ?", stale)
    return len(stale)


def entity_count(db: sqlite_utils.Database) -> int:
    return int(db.conn.execute("SELECT count(*) FROM sg_entities").fetchone()[0])


# --- the sync's state ---------------------------------------------------------------------


def sync_state(db: sqlite_utils.Database) -> dict[str, Any]:
    return dict(next(iter(db.query("SELECT * FROM sg_sync WHERE id = 1"))))


def record_attempt(
    db: sqlite_utils.Database,
    now: float,
    *,
    error: str | None,
    next_attempt_at: float | None,
) -> None:
    """Records a sync attempt: a success clears the failures, an error counts one more."""
    if error is None:
        db.execute(
            "UPDATE sg_sync SET last_attempt_at = ?, last_success_at = ?, failures = 0,"
            " last_error = '', next_attempt_at = ? WHERE id = 1",
            [now, now, next_attempt_at],
        )
    else:
        db.execute(
            "UPDATE sg_sync SET last_attempt_at = ?, failures = failures + 1, last_error = ?,"
            " next_attempt_at = ? WHERE id = 1",
            [now, error, next_attempt_at],
        )


def cursors(db: sqlite_utils.Database) -> dict[str, float]:
    return dict(db.conn.execute("SELECT entity_type, updated_at FROM sg_cursors").fetchall())


def advance_cursor(db: sqlite_utils.Database, entity_type: str, updated_at: float) -> None:
    db.execute(
        "INSERT INTO sg_cursors (entity_type, updated_at) VALUES (?, ?) ON CONFLICT"
        " (entity_type) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)",
        [entity_type, updated_at],
    )


# --- the write-back outbox ----------------------------------------------------------------


def enqueue(db: sqlite_utils.Database, job_id: int, kind: str, payload: str, now: float) -> None:
    db.execute(
        "INSERT INTO sg_outbox (job_id, kind, payload, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [job_id, kind, payload, now, now],
    )


def due_writebacks(db: sqlite_utils.Database, now: float, limit: int) -> list[dict[str, Any]]:
    """Pending write-backs in order; a job's later ones wait behind its earliest pending one."""
    rows = list(
        db.query("SELECT * FROM sg_outbox WHERE state = 'pending' ORDER BY id LIMIT ?", [limit])
    )
    blocked: set[int] = set()
    due: list[dict[str, Any]] = []
    for row in rows:
        if row["job_id"] in blocked:
            continue
        if row["next_attempt_at"] > now:
            blocked.add(row["job_id"])
            continue
        due.append(row)
    return due


def writeback_done(db: sqlite_utils.Database, item_id: int, now: float) -> None:
    db.execute(
        "UPDATE sg_outbox SET state = 'done', done_at = ?, attempts = attempts + 1,"
        " last_error = '' WHERE id = ? AND state = 'pending'",
        [now, item_id],
    )


def writeback_failed(
    db: sqlite_utils.Database, item_id: int, error: str, next_attempt_at: float, give_up: bool
) -> None:
    db.execute(
        "UPDATE sg_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
        " state = ? WHERE id = ? AND state = 'pending'",
        [error, next_attempt_at, "failed" if give_up else "pending", item_id],
    )


def outbox_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.conn.execute("SELECT state, count(*) FROM sg_outbox GROUP BY state").fetchall())


def last_outbox_error(db: sqlite_utils.Database) -> str:
    row = db.conn.execute(
        "SELECT last_error FROM sg_outbox WHERE last_error != '' AND state != 'done'"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return str(row[0]) if row else ""


def first_outputs(db: sqlite_utils.Database, job_id: int) -> Sequence[str]:
    """The output files of the job's first finished task."""
    row = db.conn.execute(
        "SELECT outputs FROM tasks WHERE job_id = ? AND state = 'done' ORDER BY idx LIMIT 1",
        [job_id],
    ).fetchone()
    return list(json.loads(row[0])) if row else []
