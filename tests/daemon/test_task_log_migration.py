"""Migration 0015: the task log rows of an older database become files, through the real
migration runner on a real SQLite file, and the table goes."""

from __future__ import annotations

from pathlib import Path

from common.models import JobSpec
from daemon.storage import Database, open_database
from daemon.storage import jobs as job_store
from daemon.storage.migrations import steps
from daemon.storage.task_logs import FOLDER, LogCap, TaskLogFiles, dropped_marker

OLD_TABLE = """
CREATE TABLE task_logs (
    task_id  INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt  INTEGER NOT NULL,
    offset   INTEGER NOT NULL,
    text     TEXT    NOT NULL,
    PRIMARY KEY (task_id, attempt, offset)
);
DELETE FROM schema_migrations WHERE version = 15;
"""


def old_database(data_dir: Path) -> tuple[Path, int, list[int]]:
    """A database as it was before 0015, with log rows: its path, a job and its tasks."""
    path = data_dir / "cloudburst.sqlite3"
    db = open_database(path).db
    spec = JobSpec(name="a", owner="o", scene="/s.blend", frames="1-3", output="/o/f_####")
    job_id = job_store.insert_job(db, spec, [[1], [2], [3]], 0.0)
    tasks = [row["id"] for row in db.query("SELECT id FROM tasks ORDER BY idx")]
    db.executescript(OLD_TABLE)
    rows = [
        (tasks[0], 1, 0, "Fra:1 "),
        (tasks[0], 1, 6, "été 😀\n"),
        (tasks[0], 1, 20, "after a gap\n"),  # characters 12-19 never arrived
        (tasks[0], 2, 0, "second attempt\n"),
        (tasks[1], 1, 0, "x" * 1_500_000),  # longer than a record holds
        (tasks[1], 1, 1_500_000, "end\n"),
    ]
    db.conn.executemany("INSERT INTO task_logs VALUES (?, ?, ?, ?)", rows)
    db.conn.close()
    return path, job_id, tasks


def test_the_rows_of_each_attempt_become_its_file_and_the_table_goes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path, job_id, tasks = old_database(data_dir)

    migrated = open_database(path).db

    assert "task_logs" not in migrated.table_names()
    assert max(r["version"] for r in migrated.query("SELECT version FROM schema_migrations")) >= 15
    logs = TaskLogFiles(data_dir / FOLDER, LogCap(5_000_000, 1_000_000, 3))
    first = "Fra:1 été 😀\n"
    assert logs.read(job_id, tasks[0], 1, 0) == (first + dropped_marker(8) + "after a gap\n", 32)
    assert logs.read(job_id, tasks[0], 2, 0) == ("second attempt\n", 15)
    assert logs.read(job_id, tasks[1], 1, 1_499_998) == ("xxend\n", 1_500_004)
    assert logs.read(job_id, tasks[2], 1, 0) == ("", 0)
    logs.append(job_id, tasks[0], 2, 15, "and on\n")  # the daemon appends where they stopped
    assert logs.read(job_id, tasks[0], 2, 0)[0] == "second attempt\nand on\n"


def test_a_migration_stopped_before_it_committed_moves_the_rows_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path, job_id, tasks = old_database(data_dir)
    database = Database(path)
    steps.move_task_logs(database.db, data_dir)  # the step ran, then the daemon stopped
    target = data_dir / FOLDER / str(job_id) / f"{tasks[0]}.2.log"
    target.write_bytes(target.read_bytes()[:-5])  # and even cut a file short
    database.close()

    open_database(path)

    logs = TaskLogFiles(data_dir / FOLDER, LogCap(5_000_000, 1_000_000, 3))
    assert logs.read(job_id, tasks[0], 2, 0) == ("second attempt\n", 15)
    assert sorted(p.name for p in (data_dir / FOLDER / str(job_id)).iterdir()) == sorted(
        [f"{tasks[0]}.1.log", f"{tasks[0]}.2.log", f"{tasks[1]}.1.log"]
    )
