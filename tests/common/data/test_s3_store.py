"""``S3Store`` against a real SeaweedFS server on 127.0.0.1."""

from __future__ import annotations

import os

import pytest

from common.data.errors import BlobMissing, StoreAccessDenied, UploadGone
from common.data.s3 import HEAD_LIMIT, S3Store
from common.data.store import ObjectStore
from tests.common.data.seaweed import SeaweedServer


def test_put_get_ranges_list_delete(store: S3Store) -> None:
    assert isinstance(store, ObjectStore)
    data = os.urandom(3 * 1024 * 1024 + 7)
    store.put("blobs/aa/one", data)
    store.put("blobs/ab/two", b"two")
    assert b"".join(store.get("blobs/aa/one")) == data
    assert b"".join(store.get("blobs/aa/one", 1000, 24)) == data[1000:1024]
    assert b"".join(store.get("blobs/aa/one", len(data) - 5)) == data[-5:]
    assert b"".join(store.get("blobs/aa/one", 10, 0)) == b""
    listed = list(store.list_objects("blobs/"))
    assert [(o.key, o.size) for o in listed] == [("blobs/aa/one", len(data)), ("blobs/ab/two", 3)]
    store.delete(["blobs/aa/one", "blobs/never/was"])
    assert [o.key for o in store.list_objects("")] == ["blobs/ab/two"]
    with pytest.raises(BlobMissing):
        b"".join(store.get("blobs/aa/one"))
    assert store.stats.bytes_sent == len(data) + 3
    assert store.stats.requests["PutObject"] == 2


def test_exists_many_by_head_and_by_listing(store: S3Store) -> None:
    present = [f"blobs/{i:02x}/x{i}" for i in range(0, 200, 2)]
    for key in present:
        store.put(key, b"x")
    few = ["blobs/00/x0", "blobs/01/x1", "blobs/02/x2"]
    before = store.stats.total_requests
    assert store.exists_many(few) == {"blobs/00/x0", "blobs/02/x2"}
    assert store.stats.requests["HeadObject"] == 3
    many = [f"blobs/{i:02x}/x{i}" for i in range(200)]
    assert len(many) > HEAD_LIMIT
    heads = store.stats.requests["HeadObject"]
    assert store.exists_many(many) == set(present)
    assert store.stats.requests["HeadObject"] == heads  # listed, not asked one by one
    assert store.stats.total_requests - before < len(many)


def test_a_wrong_secret_is_refused(weed: SeaweedServer, store: S3Store) -> None:
    store.put("blobs/cd/real", b"data")
    intruder = weed.store(store.prefix, secret="not-the-secret")
    with pytest.raises(StoreAccessDenied, match="refused"):
        intruder.put("blobs/cd/fake", b"nope")
    with pytest.raises(StoreAccessDenied):
        b"".join(intruder.get("blobs/cd/real"))
    assert [o.key for o in store.list_objects("blobs/")] == ["blobs/cd/real"]


def test_multipart_calls(store: S3Store) -> None:
    first = os.urandom(store.min_part_size)
    upload = store.start_multipart("big")
    parts = [store.put_part("big", upload, 2, b"tail"), store.put_part("big", upload, 1, first)]
    assert sorted(p.number for p in store.list_parts("big", upload)) == [1, 2]
    store.complete_multipart("big", upload, parts)
    assert b"".join(store.get("big")) == first + b"tail"
    gone = store.start_multipart("other")
    store.abort_multipart("other", gone)
    with pytest.raises(UploadGone):
        store.list_parts("other", gone)
