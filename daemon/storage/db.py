"""Opening the database: WAL mode, foreign keys, numbered migrations, one connection per thread."""

from __future__ import annotations

import fcntl
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

from common.private_files import create_private, make_private

logger = logging.getLogger(__name__)

#: Bytes of the database file each connection reads through memory mapping.
MMAP_BYTES = 256 * 1024 * 1024
BUSY_TIMEOUT_MS = 10_000
#: WAL pages after which a commit moves the WAL into the database file. The ranking pass does
#: it every few seconds outside the write lock (``checkpoint``); this is the safety net, high so
#: that a commit on the lease path almost never pays for it.
AUTOCHECKPOINT_PAGES = 10_000


class Database:
    """A SQLite database file shared by the daemon's threads.

    Each thread gets its own connection in autocommit mode; ``transaction()`` opens an explicit
    ``BEGIN IMMEDIATE`` transaction, so writers queue for the lock instead of failing half-way.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        # Writers of this process queue here rather than in SQLite's busy handler, which
        # polls with sleeps of up to 100 ms and would dominate tail latency under load; the
        # daemon's other processes (``server_workers``) queue on a lock file beside it.
        self._write_lock = threading.Lock()
        self._process_lock: TextIO | None = None
        #: Transactions committed by this process; readers key caches on it. The daemon's
        #: other processes (``server_workers``) write too: such a cache also expires by time.
        self.commits = 0

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (opened on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )  # fmt: skip
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
            # Reads through the OS page cache shared by every connection, not each one's small
            # private cache (deep pages of a 10,000-job queue read ~1,000 table pages).
            conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            db = sqlite_utils.Database(conn)
            self._local.db = db
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work: everything inside commits together or not at all."""
        db = self.db
        if db.conn.in_transaction:  # nested: join the outer transaction
            yield db
            return
        with self._write_lock, self._between_processes():
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk does); a COMMIT that failed
                # leaves the transaction open, and the next one would silently join it.
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            self.commits += 1

    @contextmanager
    def _between_processes(self) -> Iterator[None]:
        """Holds the lock file while this process writes: a writer of another process waits
        in the kernel, woken the moment the lock is free, not in SQLite's sleeping retries."""
        if self._process_lock is None:
            lock_path = self.path.with_name(self.path.name + "-lock")
            create_private(lock_path)
            self._process_lock = open(lock_path, "a")  # noqa: SIM115 (held for the process)
        fcntl.flock(self._process_lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._process_lock, fcntl.LOCK_UN)

    def checkpoint(self) -> None:
        """Copies the WAL into the database file without blocking writers (PASSIVE).

        Runs outside the write lock, so commits (leases among them) do not wait for it.
        """
        self.db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None


def open_database(path: Path) -> Database:
    """Opens (creating if needed) the database at ``path`` and applies pending migrations.

    The database and its ``-wal`` and ``-shm`` files are the owner's only (0600; SQLite gives the
    latter the database's mode), in a folder that is too (0700): the daemon's data folder.
    """
    create_private(path)
    for companion in ("-wal", "-shm"):
        make_private(path.with_name(path.name + companion))
    database = Database(path)
    migrate(database)
    return database


def migrate(database: Database) -> int:
    """Applies every numbered migration not yet applied; returns the schema version."""
    db = database.db
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"
    )
    applied = {row["version"] for row in db.query("SELECT version FROM schema_migrations")}
    scripts = sorted(
        (int(entry.name.split("_", 1)[0]), entry)
        for entry in resources.files("daemon.storage.migrations").iterdir()
        if entry.name.endswith(".sql")
    )
    for version, script in scripts:
        if version in applied:
            continue
        logger.info("Applying migration %s", script.name)
        sql = script.read_text(encoding="utf-8")
        # executescript commits on its own; wrap the script and its record in one transaction.
        db.conn.executescript(
            "BEGIN IMMEDIATE;\n"
            + sql
            + "\nINSERT INTO schema_migrations (version, name)"
            + f" VALUES ({version}, '{script.name}');"
            + "\nCOMMIT;"
        )
    return max([v for v, _ in scripts], default=0)


def one_row(db: sqlite_utils.Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    """The first row ``sql`` finds, or None."""
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


@contextmanager
def savepoint(db: sqlite_utils.Database) -> Iterator[None]:
    """A part of the open transaction that fails alone: an error inside rolls back only this
    part (and is raised); the transaction goes on."""
    db.conn.execute("SAVEPOINT part")
    try:
        yield
    except BaseException:
        db.conn.execute("ROLLBACK TO part")
        db.conn.execute("RELEASE part")
        raise
    db.conn.execute("RELEASE part")
