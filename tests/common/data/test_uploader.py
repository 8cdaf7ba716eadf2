"""Uploads against a real SeaweedFS server: only missing blobs go, small ones in packs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from common.data.catalog import Catalog
from common.data.errors import SourceChanged
from common.data.hashing import hash_bytes
from common.data.s3 import S3Store
from tests.common.data.files import OLD, write
from tests.common.data.transfer import download, manifest_of, uploader


def show_files(root: Path) -> list[Path]:
    files = [write(root / f"tex/t{i}.png", os.urandom(20_000 + i)) for i in range(20)]
    files.append(write(root / "geo/big.abc", os.urandom(3 * 1024 * 1024)))
    files.append(write(root / "geo/huge.vdb", os.urandom(12 * 1024 * 1024 + 5)))
    return files


def test_round_trip_is_verified_byte_for_byte(store: S3Store, tmp_path: Path) -> None:
    files = show_files(tmp_path / "show")
    manifest = manifest_of(files, tmp_path / "daemon")
    report = uploader(
        store, tmp_path / "daemon", multipart_threshold=8 << 20, part_size=5 << 20
    ).upload(manifest)
    assert report.uploaded == report.blobs == 22
    assert report.bytes_uploaded == sum(f.stat().st_size for f in files)
    assert report.packs == 1
    assert store.stats.requests["UploadPart"] == 3  # huge.vdb: 12 MiB in 5 MiB parts
    got = download(store, manifest, tmp_path / "node")
    for path in files:
        assert got[hash_bytes(path.read_bytes())] == path.read_bytes()


def test_second_upload_sends_only_the_changed_file(store: S3Store, tmp_path: Path) -> None:
    files = show_files(tmp_path / "show")
    daemon = tmp_path / "daemon"
    first = uploader(store, daemon).upload(manifest_of(files, daemon))
    assert first.uploaded == 22
    write(files[3], os.urandom(20_003), mtime=OLD + 1)  # an artist repaints one texture
    again = manifest_of(files, daemon)
    before = store.stats.snapshot()
    report = uploader(store, daemon).upload(again)
    assert (report.uploaded, report.bytes_uploaded) == (1, 20_003)
    index_bytes = report.bytes_sent - report.bytes_uploaded
    assert 0 < index_bytes < 500  # the one-member pack's index
    assert store.stats.snapshot()[1] - before[1] == report.bytes_sent
    unchanged = uploader(store, daemon).upload(again)  # a warm resubmit
    assert (unchanged.uploaded, unchanged.requests, unchanged.bytes_sent) == (0, 0, 0)


def test_another_machine_finds_what_is_stored_without_sending_it(
    store: S3Store, tmp_path: Path
) -> None:
    files = show_files(tmp_path / "show")
    manifest = manifest_of(files, tmp_path / "a")
    uploader(store, tmp_path / "a").upload(manifest)
    store.stats.requests.clear()
    report = uploader(store, tmp_path / "b").upload(manifest)  # empty catalog
    assert (report.uploaded, report.already_stored, report.bytes_sent) == (0, 22, 0)
    # list the pack indexes, read the one new index, ask for each of the two large blobs
    assert store.stats.requests == {"ListObjectsV2": 1, "GetObject": 1, "HeadObject": 2}


def test_ten_thousand_tiny_files_take_few_requests(store: S3Store, tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    files = [
        write(root / f"d{i // 1000}/f{i:05d}.txt", b"%05d" % i + os.urandom(40))
        for i in range(10_000)
    ]
    manifest = manifest_of(files, tmp_path / "daemon")
    report = uploader(store, tmp_path / "daemon", pack_size=256 * 1024).upload(manifest)
    assert report.uploaded == 10_000
    assert report.packs == 2  # 450 KB in 256 KB packs
    assert report.requests < 10  # vs 10,000 PUTs one by one
    assert store.stats.requests["PutObject"] == 4  # two packs, two indexes
    before = store.stats.total_requests
    got = download(store, manifest, tmp_path / "node")
    assert len(got) == 10_000 and all(hash_bytes(b) == h for h, b in got.items())
    assert store.stats.total_requests - before < 50  # merged ranged reads, not 10,000 GETs


def test_a_file_changed_since_its_manifest_is_refused(store: S3Store, tmp_path: Path) -> None:
    small = write(tmp_path / "small.png", b"before")
    large = write(tmp_path / "large.exr", os.urandom(12 * 1024 * 1024))
    manifests = [manifest_of([path], tmp_path / "daemon") for path in (small, large)]
    small.write_bytes(b"after!")
    with pytest.raises(SourceChanged, match=r"small\.png"):
        uploader(store, tmp_path / "daemon").upload(manifests[0])
    with large.open("r+b") as stream:  # same size, one byte changed, late in the file
        stream.seek(11 * 1024 * 1024)
        stream.write(b"X")
    with pytest.raises(SourceChanged, match=r"large\.exr"):
        uploader(store, tmp_path / "daemon", multipart_threshold=8 << 20).upload(manifests[1])
    # nothing stored under a wrong name, and the aborted multipart upload left no object
    assert list(store.list_objects("")) == []
    catalog = Catalog(tmp_path / "daemon" / "catalog.sqlite3", store.name)
    assert catalog.locate_many({**manifests[0].blobs(), **manifests[1].blobs()}) == {}
