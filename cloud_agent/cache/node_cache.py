"""The render node's content-addressed file cache, shared by every task and agent on the node.

Files live at ``<root>/blobs/ab/cdef...`` (named by their verified xxh3-128 hash, read-only);
``<root>/index.sqlite3`` holds each one's size and last use. When the cache grows past its cap,
the least recently used files are evicted, except those a task has pinned while it fetches and
lays out its workspace. Several agent processes may share one cache: every change to the files
and the index happens under one lock file (``<root>/lock``); downloads happen outside it, into
``<root>/tmp``, and only verified files are moved in.

A workspace holds hard links to cache files, so evicting a file never breaks a workspace in use
(the bytes stay until the last link goes); the cap bounds the cache, not the workspaces.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from cloud_agent.cache.locking import FileLock

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY, size INTEGER NOT NULL, last_used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS blobs_lru ON blobs (last_used);
CREATE TABLE IF NOT EXISTS pins (owner TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS pins_hash ON pins (hash);
"""
#: Errors of ``os.link`` after which a copy is made instead (other file system, no links).
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES}


@dataclass(frozen=True)
class CacheStats:
    """The cache's contents."""

    files: int
    bytes: int
    cap: int


class NodeCache:
    """A size-capped, LRU, content-addressed cache of verified files. Thread- and process-safe."""

    def __init__(self, root: Path, cap_bytes: int) -> None:
        """Opens (and creates) the cache at ``root``.

        Args:
            root: the cache's folder, on the same file system as the workspaces so that they
                can hold hard links.
            cap_bytes: evict least recently used files beyond this many bytes.
        """
        self.root = root
        self.cap_bytes = cap_bytes
        self.blob_dir = root / "blobs"
        self.temp_dir = root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(root / "lock")
        self._db = sqlite3.connect(str(root / "index.sqlite3"), check_same_thread=False, timeout=60)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._drop_dead_pins()
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- queries -----------------------------------------------------------------------------

    def path_of(self, digest: str) -> Path:
        """Where a cached blob's file is (whether or not it is there)."""
        return self.blob_dir / digest[:2] / digest[2:]

    def present(self, hashes: Iterable[str]) -> set[str]:
        """Which of ``hashes`` are cached (their file is there)."""
        wanted = list(hashes)
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT hash FROM blobs WHERE hash IN ({marks})", chunk)
                found |= {row[0] for row in rows if self.path_of(row[0]).is_file()}
        return found

    def stats(self) -> CacheStats:
        with self._lock:
            files, size = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs"
            ).fetchone()
        return CacheStats(files, size, self.cap_bytes)

    # --- changes -----------------------------------------------------------------------------

    def add(self, digest: str, temp_file: Path, size: int) -> Path:
        """Moves a verified file (in ``temp_dir``) into the cache; evicts beyond the cap.

        Runs on any thread. A blob already cached keeps its file; the new copy is dropped.
        """
        final = self.path_of(digest)
        with self._lock:
            if final.is_file():
                temp_file.unlink(missing_ok=True)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(temp_file, 0o444)
                os.replace(temp_file, final)
            self._db.execute(
                "INSERT OR REPLACE INTO blobs (hash, size, last_used) VALUES (?, ?, ?)",
                (digest, size, time.time_ns()),
            )
            self._evict_locked(self.cap_bytes)
            self._db.commit()
        return final

    def link(self, digest: str, dest: Path) -> bool:
        """Puts the cached file at ``dest``: a hard link, or a copy where links cannot be made.

        Returns:
            True for a hard link, False for a copy.

        Raises:
            FileNotFoundError: the blob is not cached.
        """
        source = self.path_of(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if not source.is_file():
                raise FileNotFoundError(f"blob {digest} is not in the node cache {self.root}")
            self._db.execute(
                "UPDATE blobs SET last_used = ? WHERE hash = ?", (time.time_ns(), digest)
            )
            self._db.commit()
            with contextlib.suppress(FileNotFoundError):
                if os.path.samefile(source, dest):
                    return True
                dest.unlink()
            try:
                os.link(source, dest)
                return True
            except OSError as exc:
                if exc.errno not in _NO_LINK:
                    raise
            temp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
            shutil.copyfile(source, temp)
            os.replace(temp, dest)
            return False

    @contextlib.contextmanager
    def pinned(self, hashes: Iterable[str]) -> Iterator[None]:
        """Keeps ``hashes`` from eviction while inside (a task fetching and laying out)."""
        owner = f"{os.getpid()}:{uuid.uuid4().hex}"
        with self._lock:
            self._db.executemany(
                "INSERT INTO pins VALUES (?, ?)", [(owner, h) for h in set(hashes)]
            )
            self._db.commit()
        try:
            yield
        finally:
            with self._lock:
                self._db.execute("DELETE FROM pins WHERE owner = ?", (owner,))
                self._db.commit()

    def evict(self, target_bytes: int | None = None) -> list[str]:
        """Evicts least recently used, unpinned files until at most ``target_bytes`` remain."""
        with self._lock:
            evicted = self._evict_locked(self.cap_bytes if target_bytes is None else target_bytes)
            self._db.commit()
        return evicted

    # --- helpers -----------------------------------------------------------------------------

    def _evict_locked(self, target: int) -> list[str]:
        total = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM blobs").fetchone()[0]
        if total <= target:
            return []
        evicted: list[str] = []
        rows = self._db.execute(
            "SELECT hash, size FROM blobs WHERE hash NOT IN (SELECT hash FROM pins) "
            "ORDER BY last_used"
        ).fetchall()
        for digest, size in rows:
            if total <= target:
                break
            self.path_of(digest).unlink(missing_ok=True)
            self._db.execute("DELETE FROM blobs WHERE hash = ?", (digest,))
            total -= size
            evicted.append(digest)
        if total > target:
            logger.warning(
                "node cache %s: %d byte(s) over its cap of %d, all pinned by running tasks",
                self.root,
                total - target,
                target,
            )
        if evicted:
            logger.info("node cache %s: evicted %d file(s)", self.root, len(evicted))
        return evicted

    def _drop_dead_pins(self) -> None:
        """Removes the pins of processes that ended without unpinning (killed agents)."""
        owners = [row[0] for row in self._db.execute("SELECT DISTINCT owner FROM pins")]
        for owner in owners:
            if not psutil.pid_exists(int(owner.partition(":")[0])):
                self._db.execute("DELETE FROM pins WHERE owner = ?", (owner,))
