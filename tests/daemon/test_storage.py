"""The database: WAL, foreign keys, numbered migrations applied once, atomic transactions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from common.frames import chunk_frames, parse_frames
from common.models import JobSpec
from daemon.storage import open_database
from daemon.storage.db import migrate
from daemon.storage.jobs import get_job, insert_job, job_spec


def test_database_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = open_database(tmp_path / "db.sqlite3")
    db = database.db
    assert next(iter(db.query("PRAGMA journal_mode")))["journal_mode"] == "wal"
    assert next(iter(db.query("PRAGMA foreign_keys")))["foreign_keys"] == 1


def test_migrations_apply_once(tmp_path: Path) -> None:
    scripts = resources.files("daemon.storage.migrations").iterdir()
    versions = sorted(int(s.name.split("_", 1)[0]) for s in scripts if s.name.endswith(".sql"))
    assert versions[:6] == [1, 2, 3, 4, 5, 6] and 8 in versions
    database = open_database(tmp_path / "db.sqlite3")
    assert migrate(database) == versions[-1]
    again = open_database(tmp_path / "db.sqlite3")
    rows = list(again.db.query("SELECT version FROM schema_migrations ORDER BY version"))
    assert rows == [{"version": v} for v in versions]


def test_failed_submission_leaves_nothing_behind(tmp_path: Path) -> None:
    database = open_database(tmp_path / "db.sqlite3")
    spec = JobSpec(name="a", owner="b", scene="/s.blend", frames="1-100", output="/o/f_####")
    chunks = chunk_frames(parse_frames(spec.frames), 10)
    with pytest.raises(RuntimeError), database.transaction() as db:
        insert_job(db, spec, chunks, 0.0)
        raise RuntimeError("disk full halfway")
    db = database.db
    assert next(iter(db.query("SELECT count(*) AS n FROM jobs")))["n"] == 0
    assert next(iter(db.query("SELECT count(*) AS n FROM tasks")))["n"] == 0


def test_tasks_cannot_point_at_a_missing_job(tmp_path: Path) -> None:
    import sqlite3

    database = open_database(tmp_path / "db.sqlite3")
    with pytest.raises(sqlite3.IntegrityError):
        database.db.execute(
            "INSERT INTO tasks (job_id, idx, frames, frame_count, state) VALUES (42, 0, '[1]', 1,"
            " 'queued')"
        )


def test_a_stored_spec_reads_back_typed_from_one_place(tmp_path: Path) -> None:
    database = open_database(tmp_path / "db.sqlite3")
    spec = JobSpec(name="a", owner="b", scene="/s.blend", frames="1-4", output="/o/f_####")
    with database.transaction() as db:
        job_id = insert_job(db, spec, chunk_frames(parse_frames(spec.frames), 2), 0.0)
    db = database.db
    row = get_job(db, job_id)
    assert row is not None and job_spec(row) == spec
    joined = next(iter(db.query("SELECT j.spec AS job_spec FROM jobs j WHERE j.id = ?", [job_id])))
    assert job_spec(joined, "job_spec") == spec
    daemon = Path(__file__).resolve().parents[2] / "daemon"
    parsers = [
        str(path.relative_to(daemon))
        for path in sorted(daemon.rglob("*.py"))
        if "JobSpec.model_validate_json(" in path.read_text(encoding="utf-8")
    ]
    assert parsers == ["storage/jobs.py"]
