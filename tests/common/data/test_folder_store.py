"""``FolderStore``: the ObjectStore contract on a local folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from common.data.errors import BlobMissing, UploadGone
from common.data.folder_store import FolderStore
from common.data.hashing import hash_bytes
from common.data.multipart import MultipartJournal, upload_multipart
from common.data.store import ObjectStore
from common.errors import InvalidInput


@pytest.fixture
def store(tmp_path: Path) -> FolderStore:
    return FolderStore(tmp_path / "store")


def test_it_is_an_object_store(store: FolderStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_get_ranges_list_and_delete(store: FolderStore) -> None:
    store.put("a/b/one", b"0123456789")
    store.put("a/two", b"xy")
    store.put("c", b"")
    assert b"".join(store.get("a/b/one")) == b"0123456789"
    assert b"".join(store.get("a/b/one", 3, 4)) == b"3456"
    assert b"".join(store.get("a/b/one", 8)) == b"89"
    assert [(o.key, o.size) for o in store.list_objects("a/")] == [("a/b/one", 10), ("a/two", 2)]
    assert [o.key for o in store.list_objects("")] == ["a/b/one", "a/two", "c"]
    assert [o.key for o in store.list_objects("a/b")] == ["a/b/one"]
    assert list(store.list_objects("zzz/")) == []
    assert store.exists_many(["a/two", "c", "nope"]) == {"a/two", "c"}
    store.delete(["a/b/one", "never-there"])
    assert not (store.root / "a" / "b").exists()  # no empty folders left behind
    with pytest.raises(BlobMissing):
        b"".join(store.get("a/b/one"))


def test_objects_are_private_and_replaced_whole(store: FolderStore) -> None:
    store.put("k", b"first")
    store.put("k", b"second")
    path = store.root / "k"
    assert path.read_bytes() == b"second"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert [p.name for p in store.root.iterdir()] == ["k"]  # no temporary file left


@pytest.mark.parametrize("key", ["../out", "a/../../out", "/abs", "a//b", ".hidden", "a/.x", ""])
def test_keys_never_leave_the_folder(store: FolderStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        store.put(key, b"x")
    assert not (tmp_path / "out").exists() and not Path("/abs").exists()


def test_multipart_uploads_join_their_parts_in_order(store: FolderStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    journal = MultipartJournal(None, store.name)
    result = upload_multipart(store, journal, "objects/big", source, hash_bytes(data), len(data),
                              part_size=1000)  # fmt: skip
    assert result.parts == 11 and result.parts_sent == 11
    assert b"".join(store.get("objects/big")) == data
    assert [o.key for o in store.list_objects("")] == ["objects/big"]  # parts are gone


def test_an_aborted_upload_is_gone(store: FolderStore) -> None:
    upload = store.start_multipart("k")
    store.put_part("k", upload, 1, b"abc")
    assert [p.size for p in store.list_parts("k", upload)] == [3]
    store.abort_multipart("k", upload)
    with pytest.raises(UploadGone):
        store.list_parts("k", upload)
    with pytest.raises(UploadGone):
        store.put_part("other-key", store.start_multipart("k"), 1, b"x")


def test_every_folder_it_makes_is_private(store: FolderStore) -> None:
    store.put("objects/ab/cd/blob", b"x")
    store.start_multipart("objects/ab/big")
    made = [p for p in store.root.rglob("*") if p.is_dir()]
    assert len(made) >= 4
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in made), made
