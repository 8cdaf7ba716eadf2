"""The stored ranks and the queue order; what a ranking pass reads; production's overrides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from daemon.scheduling.ranking import Rank, RankInput

#: Unfinished jobs that get a rank (paused ones too, to say where they would be).
RANKED_STATES = ("queued", "waiting", "running", "paused")

_RANK_COLUMNS = ", ".join(Rank._fields)
_UPSERT_RANK = (
    f"INSERT INTO job_ranks ({_RANK_COLUMNS}) VALUES ({', '.join('?' * len(Rank._fields))})"
    " ON CONFLICT (job_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in Rank._fields if c != "job_id")
    # A pass that read before a job was re-ranked (pinned, reprioritised) must not undo it.
    + " WHERE excluded.ranked_at >= job_ranks.ranked_at"
)


def _link_column(entity_type: str, alias: str) -> str:
    """SQL joining ``sg_entities`` (as ``alias``) to the link's entity of this type."""
    if entity_type == "Task":
        return f"{alias}.entity_type = 'Task' AND {alias}.entity_id = l.task_id"
    if entity_type == "Project":
        return f"{alias}.entity_type = 'Project' AND {alias}.entity_id = l.project_id"
    return f"{alias}.entity_type = l.entity_type AND {alias}.entity_id = l.entity_id"


def _shotgrid_query(priority_entity: str, due_entity: str, where: str) -> str:
    """Each linked job's ShotGrid priority, its label, and its ShotGrid due date."""
    pe = "" if priority_entity in ("Task", "Project") else " AND l.entity_type = ?"
    de = "" if due_entity in ("Task", "Project") else " AND l.entity_type = ?"
    return (
        "SELECT l.job_id, p.priority, coalesce(p.priority_label, ''), d.due_at"
        " FROM job_links l CROSS JOIN jobs j ON j.id = l.job_id"
        f" LEFT JOIN sg_entities p ON {_link_column(priority_entity, 'p')}{pe}"
        f" LEFT JOIN sg_entities d ON {_link_column(due_entity, 'd')}{de}"
        f" WHERE {where}"
    )


def _entity_params(priority_entity: str, due_entity: str) -> list[str]:
    return [e for e in (priority_entity, due_entity) if e not in ("Task", "Project")]


_JOB_COLUMNS = (
    "j.id, j.project, j.submitted_at, j.priority, j.frame_count, j.frames_done, j.render_s,"
    " j.chunk_size, j.due_at"
)
_STATES = ", ".join(f"'{s}'" for s in RANKED_STATES)
_NO_SHOTGRID = (None, "", None)


def rank_inputs(
    db: sqlite_utils.Database, priority_entity: str, due_entity: str
) -> list[RankInput]:
    """Every unfinished job with what ranking needs, in three reads (no task is scanned)."""
    where = f"j.state IN ({_STATES})"
    conn = db.conn
    linked = {
        row[0]: row[1:]
        for row in conn.execute(
            _shotgrid_query(priority_entity, due_entity, where),
            _entity_params(priority_entity, due_entity),
        )
    }
    pinned = {row[0] for row in conn.execute("SELECT job_id FROM job_pins")}
    make = RankInput._make
    get = linked.get
    return [
        make((*row, *get(row[0], _NO_SHOTGRID), row[0] in pinned))
        for row in conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE {where}")
    ]


def rank_input(
    db: sqlite_utils.Database, job_id: int, priority_entity: str, due_entity: str
) -> RankInput | None:
    """One unfinished job's ranking input; None when it is finished (or unknown)."""
    where = f"j.id = ? AND j.state IN ({_STATES})"
    row = db.conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs j WHERE {where}", [job_id]).fetchone()
    if row is None:
        return None
    linked = db.conn.execute(
        _shotgrid_query(priority_entity, due_entity, "l.job_id = ?"),
        [*_entity_params(priority_entity, due_entity), job_id],
    ).fetchone()
    pin = db.conn.execute("SELECT 1 FROM job_pins WHERE job_id = ?", [job_id]).fetchone()
    return RankInput._make((*row, *(linked[1:] if linked else _NO_SHOTGRID), pin is not None))


def active_tasks_by_show(db: sqlite_utils.Database) -> dict[str, int]:
    """Leased or running tasks per project (reads only the active tasks)."""
    return {
        project: n
        for project, n in db.conn.execute(
            "SELECT j.project, count(*) FROM tasks t JOIN jobs j ON j.id = t.job_id"
            " WHERE t.state IN ('leased', 'running') GROUP BY j.project"
        )
    }


def online_agents(db: sqlite_utils.Database) -> int:
    row = db.conn.execute("SELECT count(*) FROM agents WHERE state = 'online'").fetchone()
    return int(row[0])


def write_ranks(db: sqlite_utils.Database, ranks: Iterable[Rank]) -> None:
    """Stores ranks (call inside a transaction)."""
    db.conn.executemany(_UPSERT_RANK, ranks)


def delete_unranked(db: sqlite_utils.Database) -> int:
    """Drops the ranks of jobs that finished since."""
    states = ", ".join(f"'{s}'" for s in RANKED_STATES)
    cursor = db.conn.execute(
        "DELETE FROM job_ranks WHERE job_id IN (SELECT r.job_id FROM job_ranks r"
        f" JOIN jobs j ON j.id = r.job_id WHERE j.state NOT IN ({states}))"
    )
    return cursor.rowcount


def delete_rank(db: sqlite_utils.Database, job_id: int) -> None:
    db.execute("DELETE FROM job_ranks WHERE job_id = ?", [job_id])


def get_rank(db: sqlite_utils.Database, job_id: int) -> Rank | None:
    row = db.conn.execute(
        f"SELECT {_RANK_COLUMNS} FROM job_ranks WHERE job_id = ?", [job_id]
    ).fetchone()
    return None if row is None else Rank._make(row)


def all_ranks(db: sqlite_utils.Database) -> dict[int, Rank]:
    """Every stored rank, by job."""
    return {
        row[0]: Rank._make(row) for row in db.conn.execute(f"SELECT {_RANK_COLUMNS} FROM job_ranks")
    }


def get_ranks(db: sqlite_utils.Database, job_ids: Sequence[int]) -> dict[int, Rank]:
    if not job_ids:
        return {}
    marks = ", ".join("?" * len(job_ids))
    return {
        row[0]: Rank._make(row)
        for row in db.conn.execute(
            f"SELECT {_RANK_COLUMNS} FROM job_ranks WHERE job_id IN ({marks})", list(job_ids)
        )
    }


def record_pass(db: sqlite_utils.Database, ranked_at: float, seconds: float, jobs: int) -> None:
    db.execute(
        "UPDATE ranking_state SET ranked_at = ?, seconds = ?, jobs = ? WHERE id = 1",
        [ranked_at, seconds, jobs],
    )


def last_pass(db: sqlite_utils.Database) -> dict[str, Any]:
    return dict(next(iter(db.query("SELECT ranked_at, seconds, jobs FROM ranking_state"))))


# --- production's overrides ------------------------------------------------------------------


def show_policies(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    return {row["project"]: row for row in db.query("SELECT * FROM show_policies")}


def held_shows(db: sqlite_utils.Database) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT project FROM show_policies WHERE held = 1")}


def set_hold(db: sqlite_utils.Database, project: str, held: bool, by: str, now: float) -> None:
    db.execute(
        "INSERT INTO show_policies (project, held, held_by, held_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (project) DO UPDATE SET held = excluded.held, held_by = excluded.held_by,"
        " held_at = excluded.held_at",
        [project, int(held), by, now],
    )


def set_share(db: sqlite_utils.Database, project: str, share: float, by: str, now: float) -> None:
    db.execute(
        "INSERT INTO show_policies (project, share, share_by, share_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (project) DO UPDATE SET share = excluded.share,"
        " share_by = excluded.share_by, share_at = excluded.share_at",
        [project, share, by, now],
    )


def waiting_jobs_by_show(db: sqlite_utils.Database) -> dict[str, int]:
    return {
        project: n
        for project, n in db.conn.execute(
            "SELECT project, count(*) FROM jobs WHERE state IN ('queued', 'running')"
            " GROUP BY project"
        )
    }


def get_pin(db: sqlite_utils.Database, job_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM job_pins WHERE job_id = ?", [job_id]))
    return rows[0] if rows else None


def pins(db: sqlite_utils.Database, job_ids: Sequence[int]) -> dict[int, str]:
    """Who pinned each of these jobs (only the pinned ones)."""
    if not job_ids:
        return {}
    marks = ", ".join("?" * len(job_ids))
    return {
        job_id: by
        for job_id, by in db.conn.execute(
            f"SELECT job_id, by FROM job_pins WHERE job_id IN ({marks})", list(job_ids)
        )
    }


def set_pin(
    db: sqlite_utils.Database, job_id: int, pinned: bool, by: str, now: float, note: str
) -> None:
    if pinned:
        db.execute(
            "INSERT INTO job_pins (job_id, by, at, note) VALUES (?, ?, ?, ?) ON CONFLICT (job_id)"
            " DO UPDATE SET by = excluded.by, at = excluded.at, note = excluded.note",
            [job_id, by, now, note],
        )
    else:
        db.execute("DELETE FROM job_pins WHERE job_id = ?", [job_id])


def record_override(
    db: sqlite_utils.Database, now: float, by: str, kind: str, target: str, value: str, note: str
) -> None:
    db.execute(
        "INSERT INTO production_overrides (at, by, kind, target, value, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [now, by, kind, target, value, note],
    )


def list_overrides(db: sqlite_utils.Database, limit: int, offset: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT * FROM production_overrides ORDER BY id DESC LIMIT ? OFFSET ?",
            [limit, offset],
        )
    )
