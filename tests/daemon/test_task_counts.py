"""The per-job task counts the triggers keep (migration 0011) always equal a count of the tasks
themselves, through every way a task is made, moved, split or removed."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from common.config import Settings
from common.models import AgentRegistration, FailureClass, JobSpec, TaskDone, TaskFailure
from daemon.app import create_app
from daemon.container import services_of
from daemon.storage import jobs as job_store
from daemon.storage import open_database
from daemon.storage import tasks as task_store


def _counted(db: sqlite_utils.Database) -> dict[tuple[int, str], int]:
    rows = db.conn.execute("SELECT job_id, state, n FROM job_task_counts WHERE n != 0")
    return {(job_id, state): n for job_id, state, n in rows}


def _real(db: sqlite_utils.Database) -> dict[tuple[int, str], int]:
    rows = db.conn.execute("SELECT job_id, state, count(*) FROM tasks GROUP BY job_id, state")
    return {(job_id, state): n for job_id, state, n in rows}


def test_the_counts_follow_every_move_of_a_task(tmp_path: Path) -> None:
    services = services_of(create_app(Settings(data_dir=tmp_path)))
    db = services.context.database.db
    spec = JobSpec(name="a", owner="o", scene="/s.blend", frames="1-12", output="/o/f_####")
    first = services.jobs.submit(spec).id
    second = services.jobs.submit(spec.model_copy(update={"chunk_size": 4})).id
    agent = services.agents.register(AgentRegistration(name="n", hostname="h")).id
    assert _counted(db) == _real(db) == {(first, "queued"): 12, (second, "queued"): 3}

    done = services.agents.lease(agent)
    assert done is not None
    services.agents.complete(agent, done.task_id, TaskDone(attempt=done.attempt, outputs=[]))
    failed = services.agents.lease(agent)
    assert failed is not None
    services.agents.fail(
        agent,
        failed.task_id,
        TaskFailure(attempt=failed.attempt, error="x", error_class=FailureClass.CRASH),
    )
    services.agents.lease(agent)  # left leased
    with services.context.database.transaction() as tx:
        task = task_store.first_queued(tx, second)
        assert task is not None
        task_store.split_queued(tx, task["id"], 1)
    services.jobs.pause(second)
    services.jobs.cancel(second)
    assert _counted(db) == _real(db)
    assert _counted(db)[(second, "cancelled")] == 4  # 3 tasks, one split in two

    with services.context.database.transaction() as tx:
        tx.execute("DELETE FROM jobs WHERE id = ?", [first])
    assert _counted(db) == _real(db)
    assert job_store.task_counts(db, [second]) == {second: {"cancelled": 4}}


def test_a_database_from_before_the_counts_is_counted_when_migrated(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    database = open_database(path)
    db = database.db
    spec = JobSpec(name="a", owner="o", scene="/s.blend", frames="1-5", output="/o/f_####")
    job_id = job_store.insert_job(db, spec, [[1], [2], [3], [4], [5]], 0.0)
    db.execute("UPDATE tasks SET state = 'done' WHERE job_id = ? AND idx < 2", [job_id])
    # as a database written before migration 0011 would be: no counts, then the migration
    db.executescript(
        "DROP TRIGGER tasks_counted_in; DROP TRIGGER tasks_counted_moved;"
        " DROP TRIGGER tasks_counted_out; DROP TABLE job_task_counts;"
        " DELETE FROM schema_migrations WHERE version = 11;"
    )
    db.conn.close()
    migrated = open_database(path).db
    assert _counted(migrated) == _real(migrated) == {(job_id, "done"): 2, (job_id, "queued"): 3}
