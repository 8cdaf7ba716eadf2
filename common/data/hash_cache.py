"""A local cache of file hashes, so re-scanning an unchanged tree reads no file.

The hashes are kept in a ``StampCache`` (``common.stamp_cache``): each path maps to the hash it
had at its size and modification time (ns), and a lookup hits only when the file's current size
and ``mtime_ns`` are the ones stored. A file written less than ``racy_window_s`` ago is hashed
but not cached (see ``StampCache`` for why).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from common.data.hashing import BLOCK_SIZE, hash_file
from common.stamp_cache import StampCache

_BATCH = 500
"""Hashes written together: a tree of many small files costs few commits."""


class HashCache:
    """Hashes files, remembering each result by path, size and mtime_ns. Thread-safe.

    ``bytes_hashed`` and ``files_hashed`` count the work actually done, so a caller (or a test)
    can see that an unchanged tree was not read again.
    """

    def __init__(
        self,
        db_path: Path | None,
        *,
        racy_window_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Opens (and creates) the cache.

        Args:
            db_path: the SQLite file; None keeps the cache in memory for this object only.
            racy_window_s: files modified more recently than this are not cached.
            clock: the wall clock, in seconds (compared with files' modification times).
        """
        self._cache = StampCache(
            db_path, racy_window_s=racy_window_s, clock=clock, batch=_BATCH, replaces=("hashes",)
        )
        self._lock = threading.Lock()
        self._local = threading.local()
        self.bytes_hashed = 0
        self.files_hashed = 0
        self.hits = 0

    def flush(self) -> None:
        """Writes the hashes computed since the last flush (done every few hundred files)."""
        self._cache.flush()

    def close(self) -> None:
        """Writes what is pending and closes the database."""
        self._cache.close()

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The cached hash of ``path`` if it was hashed at this size and mtime, else None."""
        return self._cache.get(path, (size, mtime_ns))

    def hash(self, path: str, stat: os.stat_result | None = None) -> tuple[str, os.stat_result]:
        """The hash of the file at ``path``, from the cache when its size and mtime match.

        Args:
            path: the file (the cache key, as given).
            stat: its ``os.stat`` result when the caller already has it.

        Returns:
            The hash and the stat the hash belongs to.

        Raises:
            OSError: the file cannot be read.
        """
        before = stat or os.stat(path)
        cached = self.lookup(path, before.st_size, before.st_mtime_ns)
        if cached is not None:
            with self._lock:
                self.hits += 1
            return cached, before
        buffer = getattr(self._local, "buffer", None)
        if buffer is None:
            buffer = self._local.buffer = bytearray(BLOCK_SIZE)
        while True:
            digest, count = hash_file(path, buffer)
            after = os.stat(path)
            with self._lock:
                self.bytes_hashed += count
                self.files_hashed += 1
            if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
                break
            before = after  # written while being read: read it again
        self._cache.put(path, (after.st_size, after.st_mtime_ns), digest)
        return digest, after
