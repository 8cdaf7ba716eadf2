"""A local SQLite cache of values made from files, valid while those files keep their stamps.

A file's stamp is its ``(size, mtime_ns)``. Each entry holds a text value under a key that
names a file (the key's own stamp sits in the row's columns, so checking it is one indexed
lookup and no parsing), and may also depend on other files, each stamped when the value was
made (checked with one ``stat`` each, no file opened). A lookup hits only when every stamp is
still the one stored. The file hashes of ``common.data.hash_cache`` and the scene reports of
``common.scene_readers.scan_cache`` are both kept in one of these.

A value is not stored when one of its files was written less than ``racy_window_s`` ago: file
systems keep modification times at a coarse tick, so a second write within the same tick could
leave size and time unchanged (git calls this "racily clean"). Studio files are old by the time
they are rendered, so this costs nothing in practice.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from common.local_db import open_local_db

Stamp = tuple[int, int]
"""A file's ``(size, mtime_ns)``."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stamped (
    key TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    size INTEGER,
    mtime_ns INTEGER,
    also TEXT NOT NULL,
    value TEXT NOT NULL
)
"""
_NOTHING_ELSE = "{}"


def file_stamp(path: str) -> Stamp | None:
    """The stamp of the file (or folder) at ``path``; None when it is missing or unreadable."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return stat.st_size, stat.st_mtime_ns


class StampCache:
    """Values remembered with the stamps of the files they were made from. Thread-safe."""

    def __init__(
        self,
        db_path: Path | None,
        *,
        version: str = "",
        racy_window_s: float = 2.0,
        clock: Callable[[], float] = time.time,
        batch: int = 1,
        replaces: tuple[str, ...] = (),
    ) -> None:
        """Opens (and creates) the cache.

        Args:
            db_path: the SQLite file; None keeps the cache in memory for this object only.
            version: the form of the values; entries stored under another version never hit.
            racy_window_s: values made from a file modified more recently are not stored.
            clock: the wall clock, in seconds (compared with files' modification times).
            batch: how many stored values wait in memory before they are written together.
            replaces: tables an older form of this cache kept in the same file; dropped.
        """
        self._db = open_local_db(db_path)
        for table in replaces:
            self._db.execute(f'DROP TABLE IF EXISTS "{table}"')
        self._db.execute(_SCHEMA)
        self._db.commit()
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[Stamp | None, str, str]] = {}
        self.version = version
        self.racy_window_s = racy_window_s
        self._clock = clock
        self._batch = batch

    def get(self, key: str, stamp: Stamp | None) -> str | None:
        """The value stored under ``key`` if ``stamp`` (the key's file now) and the stamps of
        the other files it was made from are all the stored ones, else None."""
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None and pending[0] == stamp:
                also, value = pending[1], pending[2]
            else:
                size, mtime_ns = stamp if stamp is not None else (None, None)
                row = self._db.execute(
                    "SELECT also, value FROM stamped WHERE key = ? AND version = ?"
                    " AND size IS ? AND mtime_ns IS ?",
                    (key, self.version, size, mtime_ns),
                ).fetchone()
                if row is None:
                    return None
                also, value = row
        if also != _NOTHING_ELSE:
            for path, stored in json.loads(also).items():
                if file_stamp(path) != (tuple(stored) if stored is not None else None):
                    return None
        return value

    def put(
        self,
        key: str,
        stamp: Stamp | None,
        value: str,
        also: Mapping[str, Stamp | None] | None = None,
    ) -> bool:
        """Stores ``value`` under ``key``, made from the key's file at ``stamp`` and from the
        files of ``also`` at theirs. Returns False, storing nothing, when one of those files
        changed moments ago (within ``racy_window_s``)."""
        stamps = [stamp, *(also or {}).values()]
        newest = max((s[1] for s in stamps if s is not None), default=0)
        if self._clock() - newest / 1e9 < self.racy_window_s:
            return False
        with self._lock:
            self._pending[key] = (stamp, json.dumps(also) if also else _NOTHING_ELSE, value)
            if len(self._pending) >= self._batch:
                self._flush_locked()
        return True

    def flush(self) -> None:
        """Writes the values stored since the last flush."""
        with self._lock:
            self._flush_locked()

    def close(self) -> None:
        """Writes what is pending and closes the database."""
        with self._lock:
            self._flush_locked()
            self._db.close()

    def __enter__(self) -> StampCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _flush_locked(self) -> None:
        if self._pending:
            self._db.executemany(
                "INSERT OR REPLACE INTO stamped (key, version, size, mtime_ns, also, value) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (key, self.version, *(stamp or (None, None)), also, value)
                    for key, (stamp, also, value) in self._pending.items()
                ],
            )
            self._db.commit()
            self._pending.clear()
