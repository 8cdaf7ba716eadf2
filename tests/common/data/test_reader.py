"""Verified downloads: bytes altered in the store are detected, re-read, and never used."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.data.catalog import Catalog
from common.data.errors import BlobCorrupt, BlobMissing
from common.data.hashing import hash_bytes
from common.data.manifest import Manifest
from common.data.packs import pack_key
from common.data.reader import BlobReader
from common.data.s3 import S3Store
from common.data.store import blob_key
from tests.common.data.files import write
from tests.common.data.seaweed import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedServer
from tests.common.data.transfer import manifest_of, uploader


class FlakyStore(S3Store):
    """Flips a byte of the first read of each key in ``flaky`` (a bad link, once)."""

    def __init__(self, weed: SeaweedServer, prefix: str) -> None:
        super().__init__(
            BUCKET, prefix=prefix, endpoint_url=weed.endpoint, access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
        )  # fmt: skip
        self.flaky: set[str] = set()

    def get(self, key: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        data = b"".join(super().get(key, offset, length))
        if key in self.flaky and data:
            self.flaky.discard(key)
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        yield data


def staged(store: S3Store, tmp_path: Path) -> tuple[Manifest, dict[str, bytes]]:
    contents = [os.urandom(3000 + i) for i in range(5)] + [os.urandom(2 * 1024 * 1024)]
    files = [write(tmp_path / f"show/f{i}.bin", data) for i, data in enumerate(contents)]
    manifest = manifest_of(files, tmp_path / "daemon")
    uploader(store, tmp_path / "daemon").upload(manifest)
    return manifest, {hash_bytes(data): data for data in contents}


def fetch_all(reader: BlobReader, manifest: Manifest, temp: Path) -> dict[str, bytes]:
    got: dict[str, bytes] = {}

    def accept(digest: str, path: Path) -> None:
        got[digest] = path.read_bytes()
        path.unlink()

    try:
        reader.fetch(manifest.blobs(), temp, accept)
    finally:
        assert list(temp.iterdir()) == []  # no bad bytes left lying around
    return got


def test_altered_pack_member_is_detected_and_not_used(store: S3Store, tmp_path: Path) -> None:
    manifest, contents = staged(store, tmp_path)
    catalog = Catalog(None, store.name)
    reader = BlobReader(store, catalog)
    victim = sorted(h for h, data in contents.items() if len(data) < 10_000)[0]
    location = reader.locate({victim: len(contents[victim])})[victim]
    pack = bytearray(b"".join(store.get(location.key)))
    pack[location.offset + 7] ^= 0x01  # one bit, in the store
    store.put(location.key, bytes(pack))
    got: dict[str, bytes] = {}
    with pytest.raises(BlobCorrupt, match="1 file"):
        got = fetch_all(reader, manifest, tmp_path / "tmp")
    assert victim not in got
    gets = store.stats.requests["GetObject"]
    assert gets >= 3  # the index, the merged range, then the victim alone again


def test_altered_loose_blob_is_detected(store: S3Store, tmp_path: Path) -> None:
    manifest, contents = staged(store, tmp_path)
    big = next(h for h, data in contents.items() if len(data) > 1 << 20)
    store.put(blob_key(big), contents[big][:-1] + b"!")
    reader = BlobReader(store, Catalog(None, store.name))
    with pytest.raises(BlobCorrupt):
        fetch_all(reader, manifest, tmp_path / "tmp")


def test_bytes_damaged_on_the_way_are_read_again(
    weed: SeaweedServer, store: S3Store, tmp_path: Path
) -> None:
    manifest, contents = staged(store, tmp_path)
    flaky = FlakyStore(weed, store.prefix)
    reader = BlobReader(flaky, Catalog(None, flaky.name))
    big = next(h for h, data in contents.items() if len(data) > 1 << 20)
    small = next(h for h, data in contents.items() if len(data) < 10_000)
    packs = {reader.locate({small: len(contents[small])})[small].key}
    flaky.flaky = {blob_key(big), *packs}
    got = fetch_all(reader, manifest, tmp_path / "tmp")
    assert got == contents
    assert flaky.flaky == set()  # both damaged reads happened, and were read again


def test_missing_blobs_are_named(store: S3Store, tmp_path: Path) -> None:
    manifest, _ = staged(store, tmp_path)
    pack = next(o.key for o in store.list_objects("packs/"))
    assert pack == pack_key(pack.removeprefix("packs/"))
    store.delete([o.key for o in store.list_objects("")])
    with pytest.raises(BlobMissing, match="staged again"):
        BlobReader(store, Catalog(None, store.name)).locate(manifest.blobs())
