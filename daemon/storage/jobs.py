"""Jobs table: insert a whole submission, read, filter, compare-and-set state changes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from typing import Any

import sqlite_utils

from common.errors import NotFound
from common.models import JobSpec, Requirements, Task
from common.states import JobState, TaskState
from daemon.job_filter import JobFilter, JobSort


def insert_job(
    db: sqlite_utils.Database,
    spec: JobSpec,
    chunks: Sequence[Sequence[int]],
    now: float,
    submitted_by: str | None = None,
) -> int:
    """Inserts a job and all its tasks; call inside a transaction. Returns the job id.

    ``spec.owner`` must be decided already (``daemon.auth.rules.job_owner``)."""
    due = spec.due
    if due is not None and due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    cursor = db.execute(
        "INSERT INTO jobs (name, owner, project, dcc, spec, priority, state, frame_count,"
        " submitted_at, chunk_size, due_at, submitted_by, req_pool, req_os, req_memory_mb,"
        " req_gpus, req_gpu_memory_mb, req_dcc_version, req_tags)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            spec.name,
            spec.owner,
            spec.project,
            spec.dcc,
            spec.model_dump_json(),
            spec.priority,
            JobState.QUEUED.value,
            sum(len(c) for c in chunks),
            now,
            spec.chunk_size,
            None if due is None else due.timestamp(),
            submitted_by,
            *_requirement_columns(spec.requirements),
        ],
    )
    job_id = int(cursor.lastrowid or 0)
    db.conn.executemany(
        "INSERT OR IGNORE INTO job_limits (job_id, name) VALUES (?, ?)",
        ((job_id, name) for name in spec.limits),
    )
    db.conn.executemany(
        "INSERT INTO tasks (job_id, idx, frames, frame_count, state) VALUES (?, ?, ?, ?, ?)",
        (
            (job_id, index, json.dumps(list(chunk)), len(chunk), TaskState.QUEUED.value)
            for index, chunk in enumerate(chunks)
        ),
    )
    return job_id


def get_job(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
    return rows[0] if rows else None


def require_job(db: sqlite_utils.Database, job_id: int) -> dict[str, Any]:
    """The job's row.

    Raises:
        NotFound: there is no such job.
    """
    row = get_job(db, job_id)
    if row is None:
        raise NotFound(f"There is no job {job_id}. List jobs with `cloudburst jobs`.")
    return row


def job_spec(row: Mapping[str, Any], column: str = "spec") -> JobSpec:
    """The spec a job's row stores, typed: the one place a stored spec is parsed.

    Args:
        row: a ``jobs`` row, or a row that joins one (``column`` names the spec's column then).
        column: the column that holds the spec's JSON.
    """
    return JobSpec.model_validate_json(row[column])


def jobs_by_ids(db: sqlite_utils.Database, job_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The rows of these jobs (any order)."""
    if not job_ids:
        return []
    marks = ", ".join("?" * len(job_ids))
    return list(db.query(f"SELECT * FROM jobs WHERE id IN ({marks})", list(job_ids)))


#: The columns a list of jobs shows (``JobSummary``); not the spec, the largest.
SUMMARY_COLUMNS = (
    "id", "name", "owner", "project", "dcc", "priority", "state", "frame_count", "submitted_at",
    "started_at", "finished_at", "message", "archived_at",
)  # fmt: skip


def list_jobs(
    db: sqlite_utils.Database, filters: JobFilter, queue: Sequence[int] = ()
) -> tuple[list[dict[str, Any]], int]:
    """One page of jobs (``SUMMARY_COLUMNS``) in the order ``filters.sort`` asks, and the
    total matching the filters.

    The page's ids come first, from an index that covers the filters where there is one (a
    filtered page sorts ids only, not whole rows); then the page's rows by id. Archived jobs
    are listed only when ``filters.archived`` asks for them (and then only they are).

    Args:
        queue: the ids of the jobs in the queue, rank 1 first (``storage/queue.py``); the
            order of ``JobSort.RANK``, read by the caller so the ranks it shows are the same.
    """
    where = ["archived_at IS NOT NULL" if filters.archived else "archived_at IS NULL"]
    params: list[Any] = []
    if filters.states:
        where.append(f"state IN ({', '.join('?' * len(filters.states))})")
        params.extend(s.value for s in filters.states)
    for column, value in (("project", filters.project), ("owner", filters.owner)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if filters.priority_min is not None:
        where.append("priority >= ?")
        params.append(filters.priority_min)
    if filters.priority_max is not None:
        where.append("priority <= ?")
        params.append(filters.priority_max)
    if filters.name_contains:
        where.append("instr(lower(name), lower(?)) > 0")  # no LIKE: % and _ are plain letters
        params.append(filters.name_contains)
    for entity_type, entity_id in (("Shot", filters.shot), ("Asset", filters.asset)):
        if entity_id is not None:  # job_links_by_entity finds the entity's jobs
            where.append(
                "jobs.id IN (SELECT job_id FROM job_links WHERE entity_type = ? AND entity_id = ?)"
            )
            params.extend([entity_type, entity_id])
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    conn = db.conn
    total = int(conn.execute(f"SELECT count(*) FROM jobs{clause}", params).fetchone()[0])
    if filters.sort is JobSort.RANK:
        # The queue's jobs by place (each looked up by id), then the others, newest first.
        inside = " AND ".join(["q.job_id = jobs.id", *where])
        outside = " AND ".join(["id NOT IN (SELECT value FROM json_each(?))", *where])
        direction = "DESC" if filters.reversed else "ASC"
        sql = (
            "SELECT id FROM (SELECT jobs.id, 0 AS outside, q.place FROM"
            " (SELECT value AS job_id, key AS place FROM json_each(?)) q, jobs"
            f" WHERE {inside} UNION ALL SELECT id, 1, NULL FROM jobs WHERE {outside})"
            f" ORDER BY outside, place {direction}, id DESC"
        )
        order = json.dumps(list(queue))
        first = [order, *params, order]
    else:
        direction = "DESC" if filters.reversed else "ASC"
        order = f"{_SORT_KEYS[filters.sort]} {direction}"
        tie = "" if filters.sort is JobSort.SUBMITTED else f", id {direction}"
        sql, first = f"SELECT id FROM jobs{clause} ORDER BY {order}{tie}", []
    ids = [
        row[0]
        for row in conn.execute(
            f"{sql} LIMIT ? OFFSET ?", [*first, *params, filters.limit, filters.offset]
        )
    ]
    if not ids:
        return [], total
    found = {
        row[0]: dict(zip(SUMMARY_COLUMNS, row, strict=True))
        for row in conn.execute(
            f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM jobs"
            f" WHERE id IN ({', '.join('?' * len(ids))})",
            ids,
        )
    }
    return [found[job_id] for job_id in ids if job_id in found], total


#: The SQL each sort but the rank orders by (ids follow submission, and cost no sort).
_SORT_KEYS: dict[JobSort, str] = {
    JobSort.NAME: "name COLLATE NOCASE",
    JobSort.OWNER: "owner",
    JobSort.SHOW: "project",
    JobSort.STATE: "CASE state "
    + " ".join(f"WHEN '{state.value}' THEN {i}" for i, state in enumerate(JobState))
    + " END",
    JobSort.PRIORITY: "priority",
    JobSort.SUBMITTED: "id",
    JobSort.PROGRESS: "(SELECT coalesce(sum(t.frame_count), 0) FROM tasks t"
    " WHERE t.job_id = jobs.id AND t.state = 'done') * 1.0 / max(frame_count, 1)",
}


def move_job(
    db: sqlite_utils.Database,
    job_id: int,
    from_states: Iterable[JobState],
    to: JobState,
    **fields: Any,
) -> bool:
    """Compare-and-set: moves the job to ``to`` only if it is in one of ``from_states``."""
    states = [s.value for s in from_states]
    sets = ", ".join(["state = ?", *(f"{name} = ?" for name in fields)])
    cursor = db.execute(
        f"UPDATE jobs SET {sets} WHERE id = ? AND state IN ({', '.join('?' * len(states))})",
        [to.value, *fields.values(), job_id, *states],
    )
    return cursor.rowcount == 1


def reopen(db: sqlite_utils.Database, job_id: int) -> None:
    """Clears a job's closing message and finish time (its failed tasks run again)."""
    db.execute("UPDATE jobs SET message = '', finished_at = NULL WHERE id = ?", [job_id])


def set_priority(db: sqlite_utils.Database, job_id: int, priority: int, spec_json: str) -> None:
    db.execute("UPDATE jobs SET priority = ?, spec = ? WHERE id = ?", [priority, spec_json, job_id])


def add_rendered(db: sqlite_utils.Database, job_id: int, frames: int, seconds: float) -> None:
    """Counts a finished task's frames and render time into the job (for estimates)."""
    db.execute(
        "UPDATE jobs SET frames_done = frames_done + ?, render_s = render_s + ? WHERE id = ?",
        [frames, seconds, job_id],
    )


def task_counts(db: sqlite_utils.Database, job_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per job, how many tasks are in each state (kept by triggers: migration 0011)."""
    counts: dict[int, dict[str, int]] = {job_id: {} for job_id in job_ids}
    if not job_ids:
        return counts
    for job_id, state, n in db.conn.execute(
        "SELECT job_id, state, n FROM job_task_counts"
        f" WHERE job_id IN ({', '.join('?' * len(job_ids))}) AND n > 0",
        list(job_ids),
    ):
        counts[job_id][state] = n
    return counts


def frame_stats(db: sqlite_utils.Database, job_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per job: frames done, their render seconds, running tasks and the frames' worth of
    progress in them, for progress and finish estimates (one query for a whole page)."""
    stats = {job_id: {"done": 0, "seconds": 0.0, "active": 0, "partial": 0.0} for job_id in job_ids}
    if not job_ids:
        return stats
    for job_id, done, seconds, active, partial in db.conn.execute(
        "SELECT job_id,"
        " coalesce(sum(CASE WHEN state = 'done' THEN frame_count END), 0),"
        " coalesce(sum(CASE WHEN state = 'done' THEN duration_s END), 0),"
        " coalesce(sum(CASE WHEN state IN ('leased', 'running') THEN 1 END), 0),"
        " coalesce(sum(CASE WHEN state IN ('leased', 'running')"
        "   THEN progress * frame_count END), 0)"
        f" FROM tasks WHERE job_id IN ({', '.join('?' * len(job_ids))}) GROUP BY job_id",
        list(job_ids),
    ):
        stats[job_id] = {"done": done, "seconds": seconds, "active": active, "partial": partial}
    return stats


def job_errors(db: sqlite_utils.Database, job_id: int, limit: int = 20) -> list[str]:
    """The last error of each task that had one, newest first, each behind the task's label
    (``task 3 (frames 3): ...``, as the page and the CLI name it)."""
    return [
        f"{Task.label_of(row['idx'], json.loads(row['frames'])).capitalize()}: {row['error']}"
        for row in db.query(
            "SELECT idx, frames, error FROM tasks"
            " WHERE job_id = ? AND error != '' ORDER BY finished_at DESC, idx LIMIT ?",
            [job_id, limit],
        )
    ]


def set_archived(db: sqlite_utils.Database, job_id: int, at: float | None) -> bool:
    """Archives a finished job at ``at`` (None: back in the listing). Compare-and-set: False
    when the job is not finished, or already where it was asked to be."""
    finished = [s.value for s in JobState if s.finished]
    cursor = db.execute(
        "UPDATE jobs SET archived_at = ? WHERE id = ? AND (archived_at IS NULL) = ?"
        f" AND state IN ({', '.join('?' * len(finished))})",
        [at, job_id, at is not None, *finished],
    )
    return cursor.rowcount == 1


def unfinished_dependants(db: sqlite_utils.Database, job_id: int) -> list[int]:
    """The unfinished jobs that wait for ``job_id`` (deleting it would release them)."""
    finished = [s.value for s in JobState if s.finished]
    return [
        row[0]
        for row in db.conn.execute(
            "SELECT j.id FROM job_dependencies d JOIN jobs j ON j.id = d.job_id"
            f" WHERE d.upstream_id = ? AND j.state NOT IN ({', '.join('?' * len(finished))})"
            " ORDER BY j.id",
            [job_id, *finished],
        )
    ]


def delete_finished(db: sqlite_utils.Database, job_id: int) -> bool:
    """Deletes a finished job's row; its tasks, their logs and outputs' records, its links,
    ranks and limits go with it (``ON DELETE CASCADE``); files on disk are not touched.
    Compare-and-set: False when the job is not (or no longer) finished."""
    finished = [s.value for s in JobState if s.finished]
    db.execute("DELETE FROM job_ranks WHERE job_id = ?", [job_id])  # no foreign key there
    cursor = db.execute(
        f"DELETE FROM jobs WHERE id = ? AND state IN ({', '.join('?' * len(finished))})",
        [job_id, *finished],
    )
    return cursor.rowcount == 1


def set_job_spec(db: sqlite_utils.Database, job_id: int, spec_json: str) -> None:
    db.execute("UPDATE jobs SET spec = ? WHERE id = ?", [spec_json, job_id])


def _requirement_columns(req: Requirements) -> list[Any]:
    """The job's requirements as the lease query matches them (``storage/queue.py``)."""
    return [
        req.pool or "",
        req.os or "",
        req.min_memory_mb,
        req.gpus,
        req.min_gpu_memory_mb,
        req.dcc_version or "",
        json.dumps(sorted(set(req.tags))),
    ]
