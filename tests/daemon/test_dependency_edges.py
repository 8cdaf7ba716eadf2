"""Frame-by-frame dependencies between jobs cut into different chunks: each task waits for
every task of the other job holding one of its frames, and for nothing else."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from daemon.app import Services
from tests.daemon.calls import submit


def edges(services: Services, job_id: int) -> dict[tuple[int, ...], list[tuple[int, ...]]]:
    """Each task's frames -> the frames of the tasks it waits for."""
    db = services.context.database.db
    rows = db.query(
        "SELECT t.frames AS down, u.frames AS up FROM tasks t"
        " LEFT JOIN task_dependencies d ON d.task_id = t.id"
        " LEFT JOIN tasks u ON u.id = d.upstream_task_id WHERE t.job_id = ? ORDER BY t.idx, u.idx",
        [job_id],
    )
    result: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for row in rows:
        waits = result.setdefault(tuple(json.loads(row["down"])), [])
        if row["up"] is not None:
            waits.append(tuple(json.loads(row["up"])))
    return result


def test_each_task_waits_for_the_tasks_holding_its_frames(
    api: FlaskClient, services: Services
) -> None:
    sim = submit(api, name="sim", frames="1-6", chunk_size=3)
    comp = submit(
        api, name="comp", frames="2-8", chunk_size=2,
        depends_on=[{"job": sim["id"], "frames": "same"}],
    )  # fmt: skip
    assert edges(services, comp["id"]) == {
        (2, 3): [(1, 2, 3)],
        (4, 5): [(4, 5, 6)],
        (6, 7): [(4, 5, 6)],
        (8,): [],  # sim has no frame 8
    }
    # a change to a whole-job dependency drops the frame edges
    api.put(f"/api/v1/jobs/{comp['id']}/depends-on", json={"depends_on": [sim["id"]]})
    assert all(waits == [] for waits in edges(services, comp["id"]).values())
