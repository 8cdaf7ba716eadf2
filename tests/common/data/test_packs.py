"""Pack bodies and indexes."""

from __future__ import annotations

from common.data.hashing import hash_bytes
from common.data.packs import build_pack, pack_index_key, pack_key, pack_of_index_key


def test_build_pack_places_each_member_once() -> None:
    blobs = [b"alpha", b"", b"beta" * 10, b"alpha"]
    body, index = build_pack([(hash_bytes(b), b) for b in blobs])
    assert body == b"alpha" + b"beta" * 10
    assert index.pack == hash_bytes(body) and index.size == len(body)
    assert len(index.members) == 3
    for member in index.members:
        assert hash_bytes(body[member.offset : member.offset + member.length]) == member.hash


def test_keys() -> None:
    pack = "0" * 32
    assert pack_key(pack) == f"packs/{pack}"
    assert pack_of_index_key(pack_index_key(pack)) == pack
    assert pack_of_index_key(f"packs/{pack}") is None
