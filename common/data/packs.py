"""Packs: many small blobs sent as one object, so 10,000 tiny files are not 10,000 requests.

Per-request cost, not bandwidth, bounds the transfer of small files: a 4 KB PUT takes a round
trip whatever the link's speed, and object stores bill per request. Uploading them in parallel
hides some latency but still makes one request per file; packing makes one request per
``PACK_SIZE`` bytes, and lets a render node read many neighbouring small files with one ranged
GET (``common.data.reader``).

A pack is the plain concatenation of its members' bytes, stored at ``packs/<pack hash>``, and an
index (``PackIndex``, JSON) at ``packidx/<pack hash>.json``, written after the pack, so an index
that exists names a complete pack. Each member stays addressed by its own hash and is verified
on its own when read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import Field

from common.data.hashing import hash_bytes
from common.data.manifest import Hash
from common.data.store import PACK_INDEX_PREFIX, PACK_PREFIX
from common.models import WireModel

#: Blobs smaller than this travel in packs.
PACK_THRESHOLD = 1024 * 1024
#: A pack is closed when it reaches this size.
PACK_SIZE = 32 * 1024 * 1024


class PackMember(WireModel):
    """Where one blob is inside a pack."""

    hash: Hash
    offset: Annotated[int, Field(ge=0)]
    length: Annotated[int, Field(ge=0)]


class PackIndex(WireModel):
    """The index object of one pack."""

    version: Literal[1] = 1
    pack: Hash
    """The pack's own hash (of its whole body), which is also its name."""
    size: Annotated[int, Field(ge=0)]
    members: list[PackMember]


def pack_key(pack: str) -> str:
    """The key of a pack's body."""
    return f"{PACK_PREFIX}{pack}"


def pack_index_key(pack: str) -> str:
    """The key of a pack's index."""
    return f"{PACK_INDEX_PREFIX}{pack}.json"


def pack_of_index_key(key: str) -> str | None:
    """The pack an index key names, or None for another key."""
    if key.startswith(PACK_INDEX_PREFIX) and key.endswith(".json"):
        return key[len(PACK_INDEX_PREFIX) : -len(".json")]
    return None


def build_pack(members: Sequence[tuple[str, bytes]]) -> tuple[bytes, PackIndex]:
    """Joins blobs (hash, bytes) into a pack body and its index; a hash given twice goes once."""
    seen: set[str] = set()
    entries: list[PackMember] = []
    chunks: list[bytes] = []
    offset = 0
    for digest, data in members:
        if digest in seen:
            continue
        seen.add(digest)
        entries.append(PackMember(hash=digest, offset=offset, length=len(data)))
        chunks.append(data)
        offset += len(data)
    body = b"".join(chunks)
    return body, PackIndex(pack=hash_bytes(body), size=len(body), members=entries)
