"""The object store behind Cloudburst's data transfers: one Protocol, several back ends.

A store holds opaque objects under string keys in one bucket (and an optional key prefix).
Content addressing is built on top: a blob is stored once under its hash (``blob_key``), small
blobs travel in packs (``common.data.packs``), and every read is verified against the hash
(``common.data.reader``). Back ends: ``S3Store`` (AWS, OCI's S3 compatibility endpoint, MinIO,
SeaweedFS) and ``OciStore`` (the OCI SDK, with instance principals on OCI nodes).

Every back end counts what it does in a ``TransferStats``: real HTTP requests by operation, and
payload bytes sent and received.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

BLOB_PREFIX = "blobs/"
PACK_PREFIX = "packs/"
PACK_INDEX_PREFIX = "packidx/"


def blob_key(digest: str) -> str:
    """Where a blob stored on its own lives: ``blobs/ab/cdef...``."""
    return f"{BLOB_PREFIX}{digest[:2]}/{digest[2:]}"


def hash_of_blob_key(key: str) -> str | None:
    """The hash a ``blob_key`` was made from, or None for another key."""
    if not key.startswith(BLOB_PREFIX):
        return None
    shard, _, rest = key[len(BLOB_PREFIX) :].partition("/")
    return shard + rest if len(shard) == 2 and rest else None


@dataclass(frozen=True)
class ObjectInfo:
    """An object as a listing shows it."""

    key: str
    size: int


@dataclass(frozen=True)
class PartInfo:
    """One uploaded part of a multipart upload."""

    number: int
    """1-based part number."""
    etag: str
    size: int = 0


@dataclass
class TransferStats:
    """What a store did: requests by operation and payload bytes. Thread-safe."""

    requests: Counter[str] = field(default_factory=Counter)
    bytes_sent: int = 0
    bytes_received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_request(self, operation: str) -> None:
        with self._lock:
            self.requests[operation] += 1

    def add_sent(self, count: int) -> None:
        with self._lock:
            self.bytes_sent += count

    def add_received(self, count: int) -> None:
        with self._lock:
            self.bytes_received += count

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def snapshot(self) -> tuple[int, int, int]:
        """(requests, bytes sent, bytes received) now, to subtract a later snapshot from."""
        with self._lock:
            return sum(self.requests.values()), self.bytes_sent, self.bytes_received


@runtime_checkable
class ObjectStore(Protocol):
    """Objects under keys in one bucket. Implementations are safe to share between threads.

    Errors: ``BlobMissing`` (no such object), ``StoreAccessDenied`` (credentials refused),
    ``StoreUnavailable`` (network or server error; retryable), ``UploadGone`` (an unknown
    multipart upload id).
    """

    name: str
    """Where the objects are, for logs and cache keys: ``s3://host/bucket/prefix``."""
    stats: TransferStats
    min_part_size: int
    """The smallest part a multipart upload accepts (all but the last part)."""
    max_parts: int

    def put(self, key: str, data: bytes) -> None:
        """Stores ``data`` under ``key`` (replacing any object there)."""
        ...

    def get(self, key: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The object's bytes from ``offset`` (``length`` of them, or to the end), in chunks."""
        ...

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` exist, in as few requests as the back end allows."""
        ...

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order."""
        ...

    def delete(self, keys: Iterable[str]) -> None:
        """Deletes objects; a key that does not exist is not an error."""
        ...

    def start_multipart(self, key: str) -> str:
        """Begins a multipart upload and returns its id."""
        ...

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartInfo:
        """Uploads part ``number`` (from 1) of an upload."""
        ...

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        """The parts the store holds for an upload."""
        ...

    def complete_multipart(self, key: str, upload_id: str, parts: list[PartInfo]) -> None:
        """Joins the parts, in number order, into the object."""
        ...

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Drops an upload and its parts."""
        ...
