"""Verified downloads: every blob read from the store is hashed and checked before use.

``BlobReader.fetch`` gets a set of blobs into files in a temporary folder and hands each one,
once verified, to a callback (a render node's cache moves it into place). Blobs of the same pack
that lie close together are read with one ranged GET. A blob whose bytes do not hash to its
name is deleted at once and read again, alone, from the store; if the store's copy is bad too,
the blob is reported as ``BlobCorrupt`` and never handed over.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from common.data.catalog import BlobLocation, Catalog
from common.data.errors import BlobCorrupt, BlobMissing
from common.data.hashing import hash_bytes, new_hasher
from common.data.store import ObjectStore

logger = logging.getLogger(__name__)

#: Neighbouring pack members this close are read in one request (the gap bytes are wasted).
MERGE_GAP = 64 * 1024
#: The most bytes one merged ranged read may span.
MERGE_LIMIT = 16 * 1024 * 1024

Accept = Callable[[str, Path], object]


@dataclass(frozen=True)
class FetchReport:
    """What one ``BlobReader.fetch`` did."""

    blobs: int
    bytes: int
    """Bytes of the blobs handed over."""
    requests: int
    bytes_received: int
    """Bytes read from the store (blobs, gaps between merged pack members, re-reads)."""
    refetched: int
    """Blobs that failed verification once and were read again."""


class BlobReader:
    """Reads blobs from one store, verified. Thread-safe."""

    def __init__(self, store: ObjectStore, catalog: Catalog, *, workers: int = 8) -> None:
        self.store = store
        self.catalog = catalog
        self.workers = workers

    def locate(self, sizes: Mapping[str, int]) -> dict[str, BlobLocation]:
        """Where each blob is: from the catalog, else from new pack indexes, else by asking.

        Raises:
            BlobMissing: some blobs are nowhere in the store.
        """
        found = self.catalog.locate_many(sizes)
        if len(found) < len(sizes):
            self.catalog.refresh(self.store)
            found = self.catalog.locate_many(sizes)
        rest = {h: s for h, s in sizes.items() if h not in found}
        if rest:
            self.catalog.locate_loose(self.store, rest)
            found = self.catalog.locate_many(sizes)
        lost = sorted(set(sizes) - set(found))
        if lost:
            raise BlobMissing(
                f"{len(lost)} file(s) of the job are not in the object store {self.store.name} "
                f"(first: {lost[0]}); the job's data must be staged again."
            )
        return found

    def fetch(self, sizes: Mapping[str, int], temp_dir: Path, accept: Accept) -> FetchReport:
        """Reads blobs into files under ``temp_dir`` and hands each verified one to ``accept``.

        ``accept(hash, path)`` runs on a worker thread and must move or remove the file.

        Raises:
            BlobMissing: blobs are not in the store.
            BlobCorrupt: blobs failed verification twice (the others were handed over).
        """
        requests0, _, received0 = self.store.stats.snapshot()
        temp_dir.mkdir(parents=True, exist_ok=True)
        where = self.locate(sizes)
        jobs = _plan(where)
        corrupt: list[str] = []
        refetched = 0
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for bad in pool.map(lambda job: self._read_range(job, temp_dir, accept), jobs):
                refetched += len(bad)
                for digest in bad:
                    if not self._read_one(digest, where[digest], temp_dir, accept):
                        corrupt.append(digest)
        requests1, _, received1 = self.store.stats.snapshot()
        if corrupt:
            raise BlobCorrupt(
                f"{len(corrupt)} file(s) read from {self.store.name} do not match their hash "
                f"(first: {corrupt[0]}); they were not used. Stage the job's data again."
            )
        return FetchReport(
            blobs=len(sizes),
            bytes=sum(sizes.values()),
            requests=requests1 - requests0,
            bytes_received=received1 - received0,
            refetched=refetched,
        )

    # --- helpers -------------------------------------------------------------------------------

    def _read_range(
        self, job: list[tuple[str, BlobLocation]], temp_dir: Path, accept: Accept
    ) -> list[str]:
        """Reads one merged range (or one loose blob); returns the members that failed."""
        first, last = job[0][1], job[-1][1]
        if not first.packed:
            digest = job[0][0]
            return [] if self._stream_blob(digest, first, temp_dir, accept) else [digest]
        start, end = first.offset, last.offset + last.length
        data = b"".join(self.store.get(first.key, start, end - start))
        bad = []
        for digest, location in job:
            piece = data[location.offset - start : location.offset - start + location.length]
            if hash_bytes(piece) != digest:
                logger.warning("blob %s from %s failed verification", digest, first.key)
                bad.append(digest)
                continue
            accept(digest, _write_temp(temp_dir, piece))
        return bad

    def _read_one(
        self, digest: str, location: BlobLocation, temp_dir: Path, accept: Accept
    ) -> bool:
        """Reads one blob again, alone; True when it verified and was handed over."""
        if not location.packed:
            return self._stream_blob(digest, location, temp_dir, accept)
        piece = b"".join(self.store.get(location.key, location.offset, location.length))
        if hash_bytes(piece) != digest:
            logger.error("blob %s is corrupt in %s (%s)", digest, self.store.name, location.key)
            return False
        accept(digest, _write_temp(temp_dir, piece))
        return True

    def _stream_blob(
        self, digest: str, location: BlobLocation, temp_dir: Path, accept: Accept
    ) -> bool:
        """Streams a loose blob to a temporary file while hashing it; True when it verified."""
        handle, name = tempfile.mkstemp(prefix=".fetch-", dir=temp_dir)
        hasher = new_hasher()
        try:
            with os.fdopen(handle, "wb") as stream:
                for chunk in self.store.get(location.key):
                    hasher.update(chunk)
                    stream.write(chunk)
        except BaseException:
            os.unlink(name)
            raise
        if hasher.hexdigest() != digest:
            os.unlink(name)
            logger.warning("blob %s from %s failed verification", digest, location.key)
            return False
        accept(digest, Path(name))
        return True


def _plan(where: Mapping[str, BlobLocation]) -> list[list[tuple[str, BlobLocation]]]:
    """Groups blobs into reads: each loose blob alone, pack members in merged ranges."""
    jobs: list[list[tuple[str, BlobLocation]]] = []
    by_pack: dict[str, list[tuple[str, BlobLocation]]] = {}
    for digest, location in where.items():
        if location.packed:
            by_pack.setdefault(location.key, []).append((digest, location))
        else:
            jobs.append([(digest, location)])
    for members in by_pack.values():
        members.sort(key=lambda item: item[1].offset)
        current: list[tuple[str, BlobLocation]] = []
        for digest, location in members:
            if current:
                start = current[0][1].offset
                end = current[-1][1].offset + current[-1][1].length
                gap = location.offset - end
                if gap > MERGE_GAP or location.offset + location.length - start > MERGE_LIMIT:
                    jobs.append(current)
                    current = []
            current.append((digest, location))
        if current:
            jobs.append(current)
    return jobs


def _write_temp(temp_dir: Path, data: bytes) -> Path:
    handle, name = tempfile.mkstemp(prefix=".fetch-", dir=temp_dir)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    return Path(name)
