"""The node cache: verified files in, LRU eviction under a cap, pins, several processes."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

from cloud_agent.cache.node_cache import NodeCache
from common.data.hashing import hash_bytes


def put(cache: NodeCache, data: bytes) -> str:
    digest = hash_bytes(data)
    temp = cache.temp_dir / f"in-{digest}"
    temp.write_bytes(data)
    cache.add(digest, temp, len(data))
    return digest


def test_added_files_are_read_only_and_found(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "cache", cap_bytes=10_000)
    digest = put(cache, b"texture")
    path = cache.path_of(digest)
    assert path.read_bytes() == b"texture"
    assert not stat.S_IMODE(path.stat().st_mode) & 0o222
    assert cache.present([digest, "0" * 32]) == {digest}
    assert put(cache, b"texture") == digest  # a second copy is dropped
    assert cache.stats().files == 1 and list(cache.temp_dir.iterdir()) == []


def test_least_recently_used_files_go_first_under_the_cap(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "cache", cap_bytes=3_000)
    a, b, c = (put(cache, bytes([n]) * 1000) for n in (1, 2, 3))
    cache.link(a, tmp_path / "ws" / "a")  # a is used again: b is now the oldest
    d = put(cache, b"\4" * 1000)
    assert cache.present([a, b, c, d]) == {a, c, d}
    assert not cache.path_of(b).exists()
    assert cache.stats().bytes == 3_000
    e = put(cache, b"\5" * 2000)
    assert cache.present([a, c, d, e]) == {d, e}


def test_pinned_files_are_not_evicted(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "cache", cap_bytes=2_000)
    a = put(cache, b"a" * 1000)
    with cache.pinned([a]):
        put(cache, b"b" * 1000)
        put(cache, b"c" * 1000)
        assert a in cache.present([a])
    assert cache.evict() == []  # at the cap already
    assert cache.evict(0) and cache.stats().files == 0


def test_a_killed_process_leaves_no_pin(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "cache", cap_bytes=1_000)
    a = put(cache, b"a" * 1000)
    dead = multiprocessing.get_context("fork").Process(target=os.getpid)
    dead.start()
    dead.join()
    cache._db.execute("INSERT INTO pins VALUES (?, ?)", (f"{dead.pid}:x", a))
    cache._db.commit()
    reopened = NodeCache(tmp_path / "cache", cap_bytes=1_000)
    assert reopened.evict(0) == [a]


def _fill(root: str, seed: int) -> None:
    cache = NodeCache(Path(root), cap_bytes=40_000)
    for i in range(60):
        put(cache, (b"%d-%d|" % (seed, i % 25)) * 200)  # shared names across processes


def test_several_processes_share_one_cache(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    NodeCache(root, cap_bytes=40_000)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_fill, args=(str(root), n % 2)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    cache = NodeCache(root, cap_bytes=40_000)
    stats = cache.stats()
    assert stats.bytes <= 40_000
    rows = dict(cache._db.execute("SELECT hash, size FROM blobs").fetchall())
    on_disk = {p.parent.name + p.name for p in cache.blob_dir.glob("*/*")}
    assert set(rows) == on_disk  # the index and the files agree
    for digest in rows:
        assert hash_bytes(cache.path_of(digest).read_bytes()) == digest
