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
