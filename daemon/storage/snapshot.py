"""Consistent copies of live SQLite files, and the checks a copy must pass.

A plain file copy of a database in WAL mode misses what is still in the WAL (the newest
commits) and can catch a page half-written. ``copy_online`` uses SQLite's online backup API
instead: one step under one read transaction, so the copy is exactly the database as of one
commit, while the daemon goes on writing (WAL readers never block writers).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from daemon.storage.db import BUSY_TIMEOUT_MS


def copy_online(source: Path, target: Path) -> None:
    """Copies the live database ``source`` to the new file ``target``, as of one commit.

    The copy is left in rollback-journal mode: one self-contained file.

    Raises:
        sqlite3.Error: ``source`` is missing or not a database.
    """
    uri = source.absolute().as_uri() + "?mode=rw"  # never creates a database that is not there
    with (
        closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)) as live,
        closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)  # all pages in one step: one snapshot, never restarted by writers
        copy.execute("PRAGMA journal_mode = DELETE")


def integrity_problems(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong with the database file ``path`` (none: [])."""
    uri = path.absolute().as_uri() + "?mode=rw"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            rows = [str(row[0]) for row in db.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def schema_version(path: Path) -> int:
    """The newest migration applied to the database file ``path`` (0: none, or not ours)."""
    uri = path.absolute().as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except sqlite3.DatabaseError:
        return 0
    return int(row[0] or 0)
