"""Read-only queries of what each agent runs now (the agents list and the farm page)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def running_by_agent(db: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
    """The leased and running tasks of every agent, with their job's id and name.

    Uses the ``tasks_by_lease`` index (state first), so it stays quick on a long history.
    """
    rows = db.query(
        "SELECT t.agent_id, t.id AS task_id, t.job_id, t.frames, t.progress, t.state,"
        " j.name AS job_name FROM tasks t JOIN jobs j ON j.id = t.job_id"
        " WHERE t.state IN ('leased', 'running') AND t.agent_id IS NOT NULL"
        " ORDER BY t.job_id, t.idx"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["agent_id"], []).append(row)
    return found
