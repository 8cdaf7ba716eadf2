"""A multipart upload killed midway resumes, sends only what is missing, and is intact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from common.data.hashing import hash_bytes
from common.data.multipart import MultipartJournal, upload_multipart
from common.data.s3 import S3Store
from common.data.store import blob_key
from tests.common.data.files import write
from tests.common.data.seaweed import SeaweedServer

ROOT = Path(__file__).resolve().parents[3]


def parts_journaled(journal: Path) -> int:
    if not journal.exists():
        return 0
    with sqlite3.connect(journal, timeout=10) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM parts").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_killed_upload_resumes_without_corruption(
    weed: SeaweedServer, store: S3Store, tmp_path: Path
) -> None:
    data = os.urandom(8 * store.min_part_size + 12345)  # 9 parts
    path = write(tmp_path / "huge.vdb", data)
    digest, journal = hash_bytes(data), tmp_path / "multipart.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.common.data.multipart_child", weed.endpoint, store.prefix,
         str(journal), str(path), digest, str(len(data))],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while parts_journaled(journal) < 3 and child.poll() is None:
            assert time.monotonic() < deadline, "the child sent no part"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL  # it was cut off, not finished
    done_before = parts_journaled(journal)
    assert 3 <= done_before < 9
    assert list(store.list_objects("blobs/")) == []  # no object yet

    result = upload_multipart(
        store, MultipartJournal(journal, store.name), blob_key(digest), path, digest, len(data),
        part_size=store.min_part_size,
    )  # fmt: skip
    assert result.resumed
    assert result.parts == 9
    assert result.parts_reused >= done_before - 1  # the last one may have been cut mid-send
    assert result.parts_sent == 9 - result.parts_reused
    assert store.stats.requests["UploadPart"] == result.parts_sent
    assert store.stats.bytes_sent < len(data)
    assert hash_bytes(b"".join(store.get(blob_key(digest)))) == digest
    assert parts_journaled(journal) == 0  # finished uploads leave no record


def test_a_part_changed_since_it_was_sent_is_sent_again(store: S3Store, tmp_path: Path) -> None:
    size = 3 * store.min_part_size
    original = os.urandom(size)
    path = write(tmp_path / "a.exr", original)
    journal = MultipartJournal(tmp_path / "j.sqlite3", store.name)
    key = blob_key(hash_bytes(original))
    # an earlier attempt sent part 1, then the file was replaced by one with a new part 1
    upload_id = store.start_multipart(key)
    stale = b"\0" * store.min_part_size
    journal.begin(key, hash_bytes(original), size, store.min_part_size, upload_id)
    journal.record_part(upload_id, store.put_part(key, upload_id, 1, stale), hash_bytes(stale))
    result = upload_multipart(
        store, journal, key, path, hash_bytes(original), size, part_size=store.min_part_size
    )
    assert (result.resumed, result.parts_reused, result.parts_sent) == (True, 0, 3)
    assert b"".join(store.get(key)) == original
