"""Projects (shows) and their confidentiality."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from daemon.storage.db import one_row


def set_confidential(
    db: sqlite_utils.Database, name: str, confidential: bool, by: str, now: float
) -> None:
    db.execute(
        "INSERT INTO projects (name, confidential, updated_by, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET confidential = excluded.confidential,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        [name, int(confidential), by, now],
    )


def get_project(db: sqlite_utils.Database, name: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM projects WHERE name = ?", [name])


def list_projects(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM projects ORDER BY name"))


def unfinished_jobs_of(db: sqlite_utils.Database, project: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT id, spec FROM jobs WHERE project = ?"
            " AND state IN ('queued', 'waiting', 'running', 'paused')",
            [project],
        )
    )


def members(db: sqlite_utils.Database, project: str) -> list[str]:
    """The names of ``project``'s members, sorted."""
    rows = db.query(
        "SELECT user_name FROM project_members WHERE project = ? ORDER BY user_name", [project]
    )
    return [row["user_name"] for row in rows]


def projects_of(db: sqlite_utils.Database, user_name: str) -> set[str]:
    """The projects ``user_name`` is a member of."""
    rows = db.query("SELECT project FROM project_members WHERE user_name = ?", [user_name])
    return {row["project"] for row in rows}


def replace_members(
    db: sqlite_utils.Database, project: str, names: list[str], by: str, now: float
) -> None:
    """Makes ``names`` the whole list of ``project``'s members (those kept keep their date)."""
    keep = sorted(set(names))
    marks = ", ".join("?" for _ in keep)
    if keep:
        db.conn.execute(
            f"DELETE FROM project_members WHERE project = ? AND user_name NOT IN ({marks})",
            [project, *keep],
        )
    else:
        db.conn.execute("DELETE FROM project_members WHERE project = ?", [project])
    db.conn.executemany(
        "INSERT INTO project_members (project, user_name, added_by, added_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (project, user_name) DO NOTHING",
        [(project, name, by, now) for name in keep],
    )
