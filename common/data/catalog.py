"""Where each blob is in the object store, remembered locally (the "already uploaded" cache).

A blob is either an object of its own (``blobs/ab/cdef...``) or a range of a pack. The catalog
keeps that in a small SQLite file per machine, one set of rows per store, so the daemon knows
without a request which blobs it sent already, and a render node learns a pack's index once.
When a hash is not in the catalog, ``refresh`` reads the pack indexes it has not seen (one
listing, then one GET per new pack) and ``locate_loose`` asks the store about single blobs in one
batched existence check.

The catalog trusts what it recorded. Should objects be removed from the bucket behind its back
(a lifecycle rule), ``forget`` the hashes a render node reports missing and upload again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from common.data.packs import PackIndex, pack_index_key, pack_key, pack_of_index_key
from common.data.store import PACK_INDEX_PREFIX, ObjectStore, blob_key
from common.local_db import open_local_db

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    store TEXT NOT NULL, hash TEXT NOT NULL, key TEXT NOT NULL,
    offset INTEGER NOT NULL, length INTEGER NOT NULL, packed INTEGER NOT NULL,
    PRIMARY KEY (store, hash, key)
);
CREATE TABLE IF NOT EXISTS packs (
    store TEXT NOT NULL, pack TEXT NOT NULL, PRIMARY KEY (store, pack)
);
"""


@dataclass(frozen=True)
class BlobLocation:
    """Where one blob's bytes are: ``length`` bytes from ``offset`` of object ``key``."""

    key: str
    offset: int
    length: int
    packed: bool


class Catalog:
    """The local record of which blobs a store holds, and where. Thread-safe."""

    def __init__(self, db_path: Path | None, store_name: str) -> None:
        """Opens (and creates) the catalog of one store.

        Args:
            db_path: the SQLite file; None keeps it in memory for this object only.
            store_name: the store's ``name``; rows of other stores in the file are ignored.
        """
        self._db = open_local_db(db_path)
        self._db.executescript(_SCHEMA)
        self.store_name = store_name
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def locate_many(self, hashes: Iterable[str]) -> dict[str, BlobLocation]:
        """The known location of each of ``hashes`` that the catalog holds.

        A blob stored in several places (uploaded again after going bad) gets its newest.
        """
        wanted = list(hashes)
        found: dict[str, BlobLocation] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT hash, key, offset, length, packed FROM blobs "
                    f"WHERE store = ? AND hash IN ({marks}) ORDER BY rowid",
                    (self.store_name, *chunk),
                )
                for digest, key, offset, length, packed in rows:
                    found[digest] = BlobLocation(key, offset, length, bool(packed))
        return found

    def record_blob(self, digest: str, size: int) -> None:
        """Notes that a blob is stored on its own."""
        self._insert([(digest, blob_key(digest), 0, size, 0)])

    def record_pack(self, index: PackIndex) -> None:
        """Notes a pack and the place of each of its members."""
        key = pack_key(index.pack)
        rows = [(m.hash, key, m.offset, m.length, 1) for m in index.members]
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, ?, ?, ?)",
                [(self.store_name, *row) for row in rows],
            )
            self._db.execute(
                "INSERT OR IGNORE INTO packs VALUES (?, ?)", (self.store_name, index.pack)
            )
            self._db.commit()

    def forget(self, hashes: Iterable[str], key: str | None = None) -> None:
        """Drops what is known of these blobs (they went missing or bad in the store).

        Args:
            hashes: the blobs.
            key: only their copy in this object; every copy when None.
        """
        with self._lock:
            self._db.executemany(
                "DELETE FROM blobs WHERE store = ? AND hash = ? AND (? IS NULL OR key = ?)",
                [(self.store_name, digest, key, key) for digest in hashes],
            )
            self._db.commit()

    def refresh(self, store: ObjectStore) -> int:
        """Reads the indexes of packs this catalog has not seen yet; returns how many."""
        with self._lock:
            known = {
                row[0]
                for row in self._db.execute(
                    "SELECT pack FROM packs WHERE store = ?", (self.store_name,)
                )
            }
        new = 0
        for info in store.list_objects(PACK_INDEX_PREFIX):
            pack = pack_of_index_key(info.key)
            if pack is None or pack in known:
                continue
            index = PackIndex.model_validate_json(b"".join(store.get(pack_index_key(pack))))
            self.record_pack(index)
            new += 1
        if new:
            logger.info("catalog %s: learned %d new pack(s)", self.store_name, new)
        return new

    def locate_loose(self, store: ObjectStore, sizes: dict[str, int]) -> set[str]:
        """Asks the store which of these blobs it holds on their own; records and returns them."""
        keys = {blob_key(digest): digest for digest in sizes}
        present = {keys[key] for key in store.exists_many(keys)}
        self._insert([(d, blob_key(d), 0, sizes[d], 0) for d in present])
        return present

    def _insert(self, rows: list[tuple[str, str, int, int, int]]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?, ?, ?)",
                [(self.store_name, *row) for row in rows],
            )
            self._db.commit()
