"""Helpers of the transfer tests: a show on disk, its manifest, an uploader and a reader."""

from __future__ import annotations

from pathlib import Path

from common.data.catalog import Catalog
from common.data.hash_cache import HashCache
from common.data.manifest import Manifest
from common.data.manifest_builder import ManifestBuilder
from common.data.multipart import MultipartJournal
from common.data.reader import BlobReader
from common.data.store import ObjectStore
from common.data.uploader import Uploader


def manifest_of(paths: list[Path], state: Path) -> Manifest:
    """The manifest of some files, with a hash cache kept in ``state``."""
    with HashCache(state / "hashes.sqlite3") as cache:
        return ManifestBuilder(cache).build([str(p) for p in paths])


def uploader(store: ObjectStore, state: Path, **options: int) -> Uploader:
    """An uploader whose catalog and journal live in ``state`` (one machine's)."""
    return Uploader(
        store,
        Catalog(state / "catalog.sqlite3", store.name),
        MultipartJournal(state / "multipart.sqlite3", store.name),
        **options,
    )


def download(store: ObjectStore, manifest: Manifest, state: Path) -> dict[str, bytes]:
    """Every blob of a manifest, read and verified by a fresh machine: hash -> bytes."""
    got: dict[str, bytes] = {}

    def accept(digest: str, path: Path) -> None:
        got[digest] = path.read_bytes()
        path.unlink()

    reader = BlobReader(store, Catalog(state / "reader-catalog.sqlite3", store.name))
    reader.fetch(manifest.blobs(), state / "tmp", accept)
    return got
