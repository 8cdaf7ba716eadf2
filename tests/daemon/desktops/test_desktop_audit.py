"""The desktop audit log keeps every record and refuses to change or lose one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from daemon.storage import desktop_audit, open_database


def test_records_are_appended_and_read_newest_first(tmp_path: Path) -> None:
    database = open_database(tmp_path / "db.sqlite3")
    with database.transaction() as tx:
        desktop_audit.append(tx, at=1.0, actor="ana", action="session.start", user_name="ana",
                             session_id=1)  # fmt: skip
        desktop_audit.append(tx, at=2.0, actor="daemon", action="session.end", user_name="ana",
                             session_id=1, detail="idle for 61 min")  # fmt: skip
        desktop_audit.append(tx, at=3.0, actor="bo", action="snapshot.create", user_name="bo",
                             snapshot_id=4)  # fmt: skip
    rows = desktop_audit.records(database.db, session_id=1)
    assert [(r["actor"], r["action"]) for r in rows] == [("daemon", "session.end"),
                                                         ("ana", "session.start")]  # fmt: skip
    assert [r["snapshot_id"] for r in desktop_audit.records(database.db, user_name="bo")] == [4]
    assert len(desktop_audit.records(database.db, limit=2)) == 2


@pytest.mark.parametrize(
    "statement", ["UPDATE desktop_audit SET actor = 'x'", "DELETE FROM desktop_audit"]
)
def test_a_record_cannot_be_changed_nor_deleted(tmp_path: Path, statement: str) -> None:
    database = open_database(tmp_path / "db.sqlite3")
    with database.transaction() as tx:
        desktop_audit.append(tx, at=1.0, actor="ana", action="session.start")
    with (
        pytest.raises(sqlite3.IntegrityError, match="append-only"),
        database.transaction() as tx,
    ):
        tx.conn.execute(statement)
    assert len(desktop_audit.records(database.db)) == 1


def test_the_memory_backend_speaks_the_desktop_protocol() -> None:
    from daemon.backends.desktops import DesktopBackend
    from tests.daemon.desktops.memory_backend import MemoryDesktops

    assert isinstance(MemoryDesktops(), DesktopBackend)
