"""The stamp cache: a value hits only while the key's file and every file it was made from
keep the (size, mtime_ns) they had, under the same version; fresh files are not stored."""

from __future__ import annotations

import os
import time
from pathlib import Path

from common.stamp_cache import StampCache, file_stamp

OLD = 1_700_000_000


def old_file(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    os.utime(path, (OLD, OLD))
    return str(path)


def test_a_value_hits_only_at_the_stamp_it_was_stored_with(tmp_path: Path) -> None:
    key = old_file(tmp_path / "a", b"aaaa")
    with StampCache(tmp_path / "c.sqlite3") as cache:
        assert cache.put(key, file_stamp(key), "value")
        assert cache.get(key, file_stamp(key)) == "value"
        assert cache.get(key, (4, OLD * 10**9 + 1)) is None
        assert cache.get(key, None) is None
        assert cache.get(str(tmp_path / "other"), file_stamp(key)) is None


def test_a_change_to_a_file_it_was_made_from_misses(tmp_path: Path) -> None:
    key = old_file(tmp_path / "scene", b"s")
    texture = old_file(tmp_path / "tex", b"t")
    missing = str(tmp_path / "missing")
    also = {texture: file_stamp(texture), missing: None}
    with StampCache(None) as cache:
        assert cache.put(key, file_stamp(key), "report", also)
        assert cache.get(key, file_stamp(key)) == "report"
        old_file(tmp_path / "missing", b"now here")
        assert cache.get(key, file_stamp(key)) is None
        os.remove(missing)
        assert cache.get(key, file_stamp(key)) == "report"
        old_file(tmp_path / "tex", b"tt")
        assert cache.get(key, file_stamp(key)) is None


def test_values_of_another_version_never_hit(tmp_path: Path) -> None:
    key = old_file(tmp_path / "a", b"a")
    db = tmp_path / "c.sqlite3"
    with StampCache(db, version="1") as cache:
        cache.put(key, file_stamp(key), "one")
    with StampCache(db, version="2") as cache:
        assert cache.get(key, file_stamp(key)) is None
    with StampCache(db, version="1") as cache:
        assert cache.get(key, file_stamp(key)) == "one"


def test_a_value_made_from_a_fresh_file_is_not_stored(tmp_path: Path) -> None:
    key = old_file(tmp_path / "a", b"a")
    fresh = tmp_path / "fresh"
    fresh.write_bytes(b"new")
    with StampCache(None, racy_window_s=2.0, clock=time.time) as cache:
        assert not cache.put(key, file_stamp(key), "v", {str(fresh): file_stamp(str(fresh))})
        assert cache.get(key, file_stamp(key)) is None
    with StampCache(None, clock=lambda: time.time() + 60) as cache:
        assert cache.put(key, file_stamp(key), "v", {str(fresh): file_stamp(str(fresh))})


def test_a_batch_is_read_before_it_is_written_and_kept_after_close(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    keys = [old_file(tmp_path / f"f{i}", b"x" * i) for i in range(3)]
    with StampCache(db, batch=100) as cache:
        for key in keys:
            cache.put(key, file_stamp(key), key)
        assert [cache.get(key, file_stamp(key)) for key in keys] == keys
        with StampCache(db) as other:  # nothing written yet
            assert other.get(keys[0], file_stamp(keys[0])) is None
    with StampCache(db) as cache:
        assert [cache.get(key, file_stamp(key)) for key in keys] == keys


def test_the_tables_of_an_older_form_are_dropped(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "cache.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE hashes (path TEXT, hash TEXT)")
        old.execute("INSERT INTO hashes VALUES ('a', 'b')")
    StampCache(path, replaces=("hashes",)).close()
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "hashes" not in tables and "stamped" in tables
