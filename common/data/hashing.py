"""Content hashes: xxh3-128 of a file's bytes, read in large blocks into one reused buffer.

A hash is 32 lowercase hex characters. ``hash_file`` streams: memory use is one block whatever
the file's size, and no bytes are copied between reading and hashing.
"""

from __future__ import annotations

import os
import re
from typing import BinaryIO

import xxhash

HASH_ALGORITHM = "xxh3-128"
#: Bytes read per system call when hashing; large blocks keep the hash near memory speed.
BLOCK_SIZE = 8 * 1024 * 1024
HASH_PATTERN = r"^[0-9a-f]{32}$"
_HASH_RE = re.compile(HASH_PATTERN)


def new_hasher() -> xxhash.xxh3_128:
    """A fresh incremental xxh3-128 hasher."""
    return xxhash.xxh3_128()


def hash_bytes(data: bytes | bytearray | memoryview) -> str:
    """The hash of some bytes in memory."""
    return xxhash.xxh3_128_hexdigest(data)


def is_hash(value: str) -> bool:
    """Whether ``value`` is a well-formed hash (32 lowercase hex digits)."""
    return bool(_HASH_RE.match(value))


def hash_stream(stream: BinaryIO, buffer: bytearray | None = None) -> tuple[str, int]:
    """Hashes what is left of an open binary stream.

    Args:
        stream: read to its end with ``readinto``.
        buffer: the block buffer to reuse; a new ``BLOCK_SIZE`` one when None.

    Returns:
        The hash and the number of bytes read.
    """
    block = buffer if buffer is not None else bytearray(BLOCK_SIZE)
    view = memoryview(block)
    hasher = new_hasher()
    total = 0
    while True:
        count = stream.readinto(view)  # type: ignore[attr-defined]
        if not count:
            break
        hasher.update(view[:count])
        total += count
    return hasher.hexdigest(), total


def hash_file(path: str | os.PathLike[str], buffer: bytearray | None = None) -> tuple[str, int]:
    """Hashes a whole file.

    Returns:
        The hash and the number of bytes read (the file's size at reading time).

    Raises:
        OSError: the file cannot be opened or read.
    """
    with open(path, "rb", buffering=0) as stream:
        return hash_stream(stream, buffer)
