"""Content hashes and the hash cache: an unchanged tree is hashed once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import xxhash

from common.data.hash_cache import HashCache
from common.data.hashing import BLOCK_SIZE, hash_bytes, hash_file, is_hash
from tests.common.data.files import OLD, write


def test_hash_file_is_xxh3_128_of_the_bytes_across_blocks(tmp_path: Path) -> None:
    data = os.urandom(BLOCK_SIZE * 2 + 12345)
    path = write(tmp_path / "big.bin", data)
    digest, count = hash_file(path)
    assert digest == xxhash.xxh3_128_hexdigest(data) == hash_bytes(data)
    assert count == len(data)
    assert is_hash(digest) and not is_hash(digest.upper()) and not is_hash(digest[:-1])


def test_rescanning_an_unchanged_tree_hashes_zero_bytes(tmp_path: Path) -> None:
    files = [write(tmp_path / f"tree/d{i % 3}/f{i}.bin", os.urandom(1000 + i)) for i in range(30)]
    db = tmp_path / "hashes.sqlite3"
    with HashCache(db) as cache:
        first = [cache.hash(str(f))[0] for f in files]
        assert cache.bytes_hashed == sum(f.stat().st_size for f in files)
    with HashCache(db) as cache:  # a new process: the cache is on disk
        again = [cache.hash(str(f))[0] for f in files]
        assert again == first
        assert cache.bytes_hashed == 0 and cache.files_hashed == 0 and cache.hits == 30


def test_a_changed_file_is_hashed_again_and_only_it(tmp_path: Path) -> None:
    a = write(tmp_path / "a.bin", b"a" * 100)
    b = write(tmp_path / "b.bin", b"b" * 100)
    with HashCache(tmp_path / "h.sqlite3") as cache:
        old_a, _ = cache.hash(str(a))
        cache.hash(str(b))
        write(a, b"c" * 100, mtime=OLD + 10)  # same size, new time
        before = cache.bytes_hashed
        new_a, _ = cache.hash(str(a))
        cache.hash(str(b))
        assert new_a != old_a and new_a == hash_bytes(b"c" * 100)
        assert cache.bytes_hashed - before == 100


def test_a_file_written_just_now_is_not_cached(tmp_path: Path) -> None:
    path = tmp_path / "fresh.bin"
    path.write_bytes(b"new")
    with HashCache(tmp_path / "h.sqlite3", racy_window_s=2.0, clock=time.time) as cache:
        cache.hash(str(path))
        cache.hash(str(path))
        assert cache.files_hashed == 2  # racily clean: read every time until it is old enough
    with HashCache(tmp_path / "h.sqlite3", clock=lambda: time.time() + 60) as cache:
        cache.hash(str(path))
        cache.hash(str(path))
        assert cache.files_hashed == 1
