"""Sends the blobs of a manifest that the object store does not hold yet.

Steps: the local catalog names what was sent before (no request at all for a warm resubmit);
for the rest, one batched look at the store (new pack indexes, one existence check of the large
blobs) catches what another machine sent; what is still missing goes up, small files in packs,
files from ``multipart_threshold`` up in resumable multipart uploads, others in one PUT each,
several at once. Every file is hashed again as it is read, and a file whose bytes no longer
match its manifest entry is refused (``SourceChanged``), so a blob's name always tells its
content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from common.data.catalog import Catalog
from common.data.errors import SourceChanged
from common.data.hashing import hash_bytes
from common.data.manifest import Manifest
from common.data.multipart import PART_SIZE, MultipartJournal, upload_multipart
from common.data.packs import PACK_SIZE, PACK_THRESHOLD, build_pack, pack_index_key, pack_key
from common.data.store import ObjectStore, blob_key

logger = logging.getLogger(__name__)

#: Files from this size up go in multipart uploads.
MULTIPART_THRESHOLD = 64 * 1024 * 1024


@dataclass(frozen=True)
class UploadReport:
    """What one ``Uploader.upload`` did."""

    blobs: int
    """Distinct contents in the manifest."""
    bytes_total: int
    """Their bytes."""
    already_stored: int
    """Blobs the store held already (found in the catalog or by asking)."""
    uploaded: int
    """Blobs sent now."""
    bytes_uploaded: int
    """Bytes of the blobs sent now."""
    packs: int
    requests: int
    """Requests made to the store, every kind."""
    bytes_sent: int
    """Payload bytes sent to the store (blobs, pack indexes, multipart parts)."""
    sent: frozenset[str] = frozenset()
    """The hashes of the blobs sent now."""


class Uploader:
    """Uploads manifests' blobs to one store. One upload at a time per object."""

    def __init__(
        self,
        store: ObjectStore,
        catalog: Catalog,
        journal: MultipartJournal,
        *,
        pack_threshold: int = PACK_THRESHOLD,
        pack_size: int = PACK_SIZE,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
        workers: int = 8,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.journal = journal
        self.pack_threshold = pack_threshold
        self.pack_size = pack_size
        self.multipart_threshold = max(multipart_threshold, store.min_part_size)
        self.part_size = part_size
        self.workers = workers

    def upload(
        self, manifest: Manifest, resolve: Callable[[str], str] | None = None
    ) -> UploadReport:
        """Makes every blob of ``manifest`` present in the store.

        Args:
            manifest: what to send.
            resolve: where this machine reads a manifest path (identity when None).

        Raises:
            SourceChanged: a file no longer matches its manifest entry.
            StoreAccessDenied, StoreUnavailable: the store refused or failed.
        """
        resolve = resolve or (lambda path: path)
        requests0, sent0, _ = self.store.stats.snapshot()
        sizes = manifest.blobs()
        paths: dict[str, str] = {}
        for entry in sorted(manifest.entries, key=lambda e: e.path):
            paths.setdefault(entry.hash, resolve(entry.path))
        known = self.catalog.locate_many(sizes)
        missing = {h: s for h, s in sizes.items() if h not in known}
        small = {h: s for h, s in missing.items() if s < self.pack_threshold}
        large = {h: s for h, s in missing.items() if s >= self.pack_threshold}
        if small:
            self.catalog.refresh(self.store)
            packed = self.catalog.locate_many(small)
            small = {h: s for h, s in small.items() if h not in packed}
        if large:
            loose = self.catalog.locate_loose(self.store, large)
            large = {h: s for h, s in large.items() if h not in loose}
        packs = 0
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures: list[Future[None]] = []
            for digest in sorted(large, key=lambda h: -large[h]):
                futures.append(pool.submit(self._send_large, digest, large[digest], paths[digest]))
            batch: list[tuple[str, bytes]] = []
            batch_bytes = 0
            for digest in sorted(small, key=lambda h: paths[h]):
                batch.append((digest, _read_checked(paths[digest], digest, small[digest])))
                batch_bytes += small[digest]
                if batch_bytes >= self.pack_size:
                    futures.append(pool.submit(self._send_pack, batch))
                    batch, batch_bytes, packs = [], 0, packs + 1
            if batch:
                futures.append(pool.submit(self._send_pack, batch))
                packs += 1
            for future in futures:
                future.result()
        requests1, sent1, _ = self.store.stats.snapshot()
        report = UploadReport(
            blobs=len(sizes),
            bytes_total=sum(sizes.values()),
            already_stored=len(sizes) - len(small) - len(large),
            uploaded=len(small) + len(large),
            bytes_uploaded=sum(small.values()) + sum(large.values()),
            packs=packs,
            requests=requests1 - requests0,
            bytes_sent=sent1 - sent0,
            sent=frozenset(small) | frozenset(large),
        )
        logger.info(
            "upload to %s: %d of %d blob(s) sent (%d byte(s), %d pack(s)), %d already there; "
            "%d request(s)",
            self.store.name,
            report.uploaded,
            report.blobs,
            report.bytes_uploaded,
            report.packs,
            report.already_stored,
            report.requests,
        )
        return report

    def _send_pack(self, members: list[tuple[str, bytes]]) -> None:
        body, index = build_pack(members)
        self.store.put(pack_key(index.pack), body)
        self.store.put(pack_index_key(index.pack), index.model_dump_json().encode())
        self.catalog.record_pack(index)

    def _send_large(self, digest: str, size: int, path: str) -> None:
        if size >= self.multipart_threshold:
            upload_multipart(
                self.store, self.journal, blob_key(digest), Path(path), digest, size,
                part_size=self.part_size,
            )  # fmt: skip
        else:
            self.store.put(blob_key(digest), _read_checked(path, digest, size))
        self.catalog.record_blob(digest, size)


def _read_checked(path: str, digest: str, size: int) -> bytes:
    """A file's bytes, refused unless they are the manifest's."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SourceChanged(f"Cannot read {path} any more: {exc.strerror or exc}.") from None
    if len(data) != size or hash_bytes(data) != digest:
        raise SourceChanged(
            f"{path} changed after its manifest was made. Submit the job again so the "
            "manifest is rebuilt."
        )
    return data
