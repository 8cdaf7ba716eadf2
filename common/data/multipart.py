"""Multipart uploads of large files that resume after an interruption.

A ``MultipartJournal`` (SQLite) keeps, per object, the store's upload id and each part sent
with its ETag and its own hash. After a crash, a kill or a lost connection, the next upload of
the same file finds the upload id, asks the store which parts it holds, re-reads those parts
locally and re-sends only parts the store lacks or whose bytes changed. The object is completed
only when the whole file hashed, as it was read, to the blob's name, so a file changed midway
can never be stored under the old hash.
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from common.data.errors import BlobMissing, SourceChanged, UploadGone
from common.data.hashing import hash_bytes, new_hasher
from common.data.store import ObjectStore, PartInfo
from common.local_db import open_local_db

logger = logging.getLogger(__name__)

#: Default part size: big enough for few requests, small enough to hold a few in memory.
PART_SIZE = 32 * 1024 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    store TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL, size INTEGER NOT NULL,
    part_size INTEGER NOT NULL, upload_id TEXT NOT NULL, PRIMARY KEY (store, key)
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, number INTEGER NOT NULL, etag TEXT NOT NULL,
    part_hash TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (upload_id, number)
);
"""


@dataclass(frozen=True)
class MultipartResult:
    """What one (possibly resumed) multipart upload did."""

    parts: int
    parts_sent: int
    parts_reused: int
    bytes_sent: int
    resumed: bool


class MultipartJournal:
    """Upload ids and finished parts of the multipart uploads in progress. Thread-safe."""

    def __init__(self, db_path: Path | None, store_name: str) -> None:
        self._db = open_local_db(db_path)
        self._db.executescript(_SCHEMA)
        self.store_name = store_name
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def find(self, key: str, digest: str, size: int, part_size: int) -> str | None:
        """The upload id of an unfinished upload of exactly this file and part size."""
        with self._lock:
            row = self._db.execute(
                "SELECT upload_id FROM uploads WHERE store = ? AND key = ? AND hash = ? "
                "AND size = ? AND part_size = ?",
                (self.store_name, key, digest, size, part_size),
            ).fetchone()
        return row[0] if row else None

    def upload_of(self, key: str) -> str | None:
        """The upload id recorded for ``key``, whatever file it was for."""
        with self._lock:
            row = self._db.execute(
                "SELECT upload_id FROM uploads WHERE store = ? AND key = ?", (self.store_name, key)
            ).fetchone()
        return row[0] if row else None

    def begin(self, key: str, digest: str, size: int, part_size: int, upload_id: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                (self.store_name, key, digest, size, part_size, upload_id),
            )
            self._db.commit()

    def parts(self, upload_id: str) -> dict[int, tuple[str, str, int]]:
        """Each recorded part: number -> (etag, part hash, size)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT number, etag, part_hash, size FROM parts WHERE upload_id = ?", (upload_id,)
            ).fetchall()
        return {number: (etag, digest, size) for number, etag, digest, size in rows}

    def record_part(self, upload_id: str, part: PartInfo, part_hash: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?)",
                (upload_id, part.number, part.etag, part_hash, part.size),
            )
            self._db.commit()

    def finish(self, key: str, upload_id: str) -> None:
        """Forgets an upload (completed or aborted)."""
        with self._lock:
            self._db.execute(
                "DELETE FROM uploads WHERE store = ? AND key = ?", (self.store_name, key)
            )
            self._db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
            self._db.commit()


def part_size_for(store: ObjectStore, size: int, wanted: int = PART_SIZE) -> int:
    """The part size to use: ``wanted``, but within the store's minimum and part count."""
    return max(wanted, store.min_part_size, math.ceil(size / store.max_parts))


def upload_multipart(
    store: ObjectStore,
    journal: MultipartJournal,
    key: str,
    path: Path,
    digest: str,
    size: int,
    *,
    part_size: int = PART_SIZE,
    workers: int = 4,
) -> MultipartResult:
    """Uploads a large file to ``key`` in parts, resuming an earlier attempt when there is one.

    Args:
        store: where to.
        journal: the record of uploads in progress.
        key: the object's key.
        path: the local file.
        digest: the hash the file must have (its manifest entry's).
        size: the size it must have.
        part_size: bytes per part (raised to the store's minimum when smaller).
        workers: parts in flight at once (each held in memory).

    Raises:
        SourceChanged: the file's bytes or size are no longer the manifest's; the upload is
            aborted and nothing is stored under ``key``.
    """
    part_size = part_size_for(store, size, part_size)
    count = max(1, math.ceil(size / part_size))
    upload_id = journal.find(key, digest, size, part_size)
    held: dict[int, PartInfo] = {}
    resumed = upload_id is not None
    if upload_id is not None:
        try:
            held = {part.number: part for part in store.list_parts(key, upload_id)}
        except (UploadGone, BlobMissing):
            journal.finish(key, upload_id)
            upload_id, resumed = None, False
    if upload_id is None:
        stale = journal.upload_of(key)  # an attempt with another part size: drop its parts
        if stale is not None:
            store.abort_multipart(key, stale)
            journal.finish(key, stale)
        upload_id = store.start_multipart(key)
        journal.begin(key, digest, size, part_size, upload_id)
    recorded = journal.parts(upload_id)
    hasher = new_hasher()
    done: list[PartInfo] = []
    sent = reused = sent_bytes = 0

    def send(number: int, data: bytes, part_hash: str) -> PartInfo:
        part = store.put_part(key, upload_id, number, data)
        journal.record_part(upload_id, part, part_hash)
        return part

    in_flight: set[Future[PartInfo]] = set()
    with path.open("rb") as stream, ThreadPoolExecutor(max_workers=workers) as pool:
        for number in range(1, count + 1):
            data = stream.read(part_size)
            hasher.update(data)
            part_hash = hash_bytes(data)
            mine, theirs = recorded.get(number), held.get(number)
            if mine and theirs and mine[0] == theirs.etag and mine[1:] == (part_hash, len(data)):
                done.append(theirs)
                reused += 1
                continue
            while len(in_flight) >= workers:
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                done += [future.result() for future in finished]
            in_flight.add(pool.submit(send, number, data, part_hash))
            sent, sent_bytes = sent + 1, sent_bytes + len(data)
        done += [future.result() for future in in_flight]
        extra = stream.read(1)
    if extra or hasher.hexdigest() != digest:
        store.abort_multipart(key, upload_id)
        journal.finish(key, upload_id)
        raise SourceChanged(
            f"{path} changed after its manifest was made (its bytes no longer hash to "
            f"{digest}). Submit the job again so the manifest is rebuilt."
        )
    store.complete_multipart(key, upload_id, done)
    journal.finish(key, upload_id)
    logger.info(
        "multipart %s: %d part(s), %d sent, %d reused%s",
        key,
        count,
        sent,
        reused,
        " (resumed)" if resumed else "",
    )
    return MultipartResult(count, sent, reused, sent_bytes, resumed)
