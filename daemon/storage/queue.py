"""The queue: the jobs with a task an agent may take, in the order their tasks are handed out.

The order is the ranking pass's (``job_ranks``: tier, then sort key); held shows and jobs with
nothing queued are not in it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

#: Jobs with a task waiting that an agent may take, best first: the queue. CROSS JOIN makes
#: SQLite walk ``job_ranks`` in index order and stop at the LIMIT, rather than sort every job.
_QUEUE = (
    "SELECT r.job_id FROM job_ranks r CROSS JOIN jobs j ON j.id = r.job_id"
    " WHERE j.state IN ('queued', 'running'){dcc}"
    " AND NOT EXISTS (SELECT 1 FROM show_policies p WHERE p.project = j.project AND p.held = 1)"
    " AND EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.state = 'queued')"
    " ORDER BY r.tier, r.sort_key, r.submitted_at, r.job_id"
)


def queue_ids(db: sqlite_utils.Database) -> list[int]:
    """The ids of the jobs in the queue, in the order their tasks are handed out."""
    return [row[0] for row in db.conn.execute(_QUEUE.format(dcc=""))]


def queue_candidates(
    db: sqlite_utils.Database,
    dccs: Sequence[str],
    limit: int,
    offset: int = 0,
    *,
    staged_only: bool = False,
) -> list[int]:
    """The best jobs in the queue that an agent with these DCCs can take a task from.

    ``staged_only``: only jobs whose files are in the object store (for nodes without
    studio storage).
    """
    if not dccs:
        return []
    dcc = f" AND j.dcc IN ({', '.join('?' * len(dccs))})"
    if staged_only:
        dcc += " AND EXISTS (SELECT 1 FROM job_data d WHERE d.job_id = j.id AND d.state = 'staged')"
    return [
        row[0]
        for row in db.conn.execute(
            _QUEUE.format(dcc=dcc) + " LIMIT ? OFFSET ?", [*dccs, limit, offset]
        )
    ]
