"""Task moves start only where the one transition table allows; a job is looked up once."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import sqlite_utils

from common.errors import IllegalStateChange, NotFound
from common.frames import chunk_frames, parse_frames
from common.models import AgentRegistration, JobSpec
from common.states import TaskState, can_move
from daemon.storage import agents as agent_store
from daemon.storage import jobs as job_store
from daemon.storage import open_database
from daemon.storage import tasks as task_store

DAEMON = Path(__file__).resolve().parents[2] / "daemon"


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    db = open_database(tmp_path / "db.sqlite3").db
    for agent_id in ("a1", "a2", "a3"):
        agent_store.insert_agent(db, agent_id, AgentRegistration(name=agent_id, hostname="h"), 0.0)
    return db


def _job(db: sqlite_utils.Database, tasks: int = 1) -> int:
    spec = JobSpec(name="a", owner="b", scene="/s.blend", frames=f"1-{tasks}", output="/o/f_####")
    return job_store.insert_job(db, spec, chunk_frames(parse_frames(spec.frames), 1), 0.0)


def _put(db: sqlite_utils.Database, task_id: int, state: TaskState) -> None:
    """Sets a task's state directly (the test's own setup, not a move)."""
    db.execute(
        "UPDATE tasks SET state = ?, agent_id = 'a1', attempts = 1 WHERE id = ?",
        [state.value, task_id],
    )


def _state(db: sqlite_utils.Database, task_id: int) -> TaskState:
    task = task_store.get_task(db, task_id)
    assert task is not None
    return TaskState(task["state"])


def _task_ids(db: sqlite_utils.Database, job_id: int) -> list[int]:
    return [row["id"] for row in task_store.list_tasks(db, job_id)]


@pytest.mark.parametrize(("start", "to"), list(itertools.product(TaskState, TaskState)))
def test_a_task_moves_only_where_the_table_allows(
    db: sqlite_utils.Database, start: TaskState, to: TaskState
) -> None:
    (task_id,) = _task_ids(db, _job(db))
    _put(db, task_id, start)
    moved = task_store.move_task(db, task_id, to)
    assert moved is can_move(start, to)
    assert _state(db, task_id) is (to if moved else start)


def test_a_move_the_table_forbids_is_refused_and_changes_nothing(
    db: sqlite_utils.Database,
) -> None:
    (task_id,) = _task_ids(db, _job(db))
    _put(db, task_id, TaskState.CANCELLED)
    with pytest.raises(IllegalStateChange, match="A cancelled task cannot become queued"):
        task_store.move_task(db, task_id, TaskState.QUEUED, expect=[TaskState.CANCELLED])
    task = task_store.get_task(db, task_id)
    assert task is not None and task["state"] == "cancelled" and task["agent_id"] == "a1"


def test_expect_narrows_the_starting_states(db: sqlite_utils.Database) -> None:
    (task_id,) = _task_ids(db, _job(db))
    _put(db, task_id, TaskState.RUNNING)
    # running -> queued is in the table, but the caller read "leased": the task changed since.
    assert not task_store.move_task(db, task_id, TaskState.QUEUED, expect=[TaskState.LEASED])
    assert _state(db, task_id) is TaskState.RUNNING
    assert task_store.move_task(db, task_id, TaskState.QUEUED, expect=["running"])
    assert _state(db, task_id) is TaskState.QUEUED


def test_a_lost_race_moves_nothing(db: sqlite_utils.Database) -> None:
    (task_id,) = _task_ids(db, _job(db))
    _put(db, task_id, TaskState.RUNNING)
    assert not task_store.move_task(db, task_id, TaskState.DONE, holder="a2", attempt=1)
    assert not task_store.move_task(db, task_id, TaskState.DONE, holder="a1", attempt=2)
    assert _state(db, task_id) is TaskState.RUNNING
    assert task_store.move_task(db, task_id, TaskState.DONE, holder="a1", attempt=1, progress=1.0)
    task = task_store.get_task(db, task_id)
    assert task is not None and task["state"] == "done" and task["progress"] == 1.0


def test_a_claim_leases_the_first_queued_task_once(db: sqlite_utils.Database) -> None:
    job_id = _job(db, tasks=2)
    first, second = _task_ids(db, job_id)
    task = task_store.claim_first_queued(db, job_id, "a1", 99.0, now=1.0)
    assert task is not None and task["id"] == first
    assert (task["state"], task["agent_id"], task["attempts"]) == ("leased", "a1", 1)
    again = task_store.claim_first_queued(db, job_id, "a2", 99.0, now=1.0)
    assert again is not None and again["id"] == second
    assert task_store.claim_first_queued(db, job_id, "a3", 99.0, now=1.0) is None


@pytest.mark.parametrize("start", list(TaskState))
def test_cancelling_a_job_moves_only_what_may_become_cancelled(
    db: sqlite_utils.Database, start: TaskState
) -> None:
    job_id = _job(db)
    (task_id,) = _task_ids(db, job_id)
    _put(db, task_id, start)
    moved = task_store.cancel_job_tasks(db, job_id, 5.0)
    assert moved == (1 if can_move(start, TaskState.CANCELLED) else 0)
    assert _state(db, task_id) is (TaskState.CANCELLED if moved else start)


@pytest.mark.parametrize("start", list(TaskState))
def test_a_retry_requeues_failed_tasks_only(db: sqlite_utils.Database, start: TaskState) -> None:
    job_id = _job(db)
    (task_id,) = _task_ids(db, job_id)
    _put(db, task_id, start)
    moved = task_store.requeue_failed(db, job_id)
    # done -> queued is in the table too (frames lost on their way home), but not a retry's.
    assert moved == (1 if start is TaskState.FAILED else 0)
    assert _state(db, task_id) is (TaskState.QUEUED if moved else start)


def test_no_sql_names_the_states_a_task_move_starts_from() -> None:
    """Every task move derives its starting states from the table (``storage/tasks.py``)."""
    literal_move = re.compile(r"UPDATE\s+tasks\s+SET[^;]*?\bstate\s*=\s*'", re.IGNORECASE)
    found = [
        str(path.relative_to(DAEMON.parent))
        for path in sorted(DAEMON.rglob("*.py"))
        if literal_move.search(path.read_text())
    ]
    assert found == []


def test_require_job_says_how_to_find_jobs(db: sqlite_utils.Database) -> None:
    job_id = _job(db)
    assert job_store.require_job(db, job_id)["id"] == job_id
    with pytest.raises(NotFound, match=r"There is no job 77\. List jobs with `cloudburst jobs`\."):
        job_store.require_job(db, 77)
