"""A full data disk answers 507 ``disk_full`` with what to do, loses nothing, and recovers.

The database's disk fills for real through SQLite's ``max_page_count`` (a true ``SQLITE_FULL``
on every connection of the daemon); a file's disk fills for real through ``/dev/full``, whose
writes fail with ``ENOSPC``.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlite_utils
from flask import Flask

from common.client import DaemonClient
from common.config import Settings
from common.credentials import StaticToken
from common.errors import DiskFull
from common.models import JobSpec
from daemon.app import Services, create_app
from daemon.services.disk_space import disk_full_cause
from daemon.storage import Database
from daemon.storage.db import migrate
from tests.conftest import FakeClock
from tests.daemon.calls import job_body, snapshot

#: Far above any database of these tests (SQLite keeps the smaller of this and its own limit).
ROOMY = 1_000_000_000


class FillableDatabase(Database):
    """The daemon's database, whose disk the test fills: while ``full``, no connection may
    grow the file by a page (SQLite answers ``SQLITE_FULL``, as on a full disk)."""

    full = False

    @property
    def db(self) -> sqlite_utils.Database:
        db = super().db
        limit = db.conn.execute("PRAGMA page_count").fetchone()[0] if self.full else ROOMY
        db.conn.execute(f"PRAGMA max_page_count = {limit}")
        return db


@pytest.fixture
def database(settings: Settings) -> FillableDatabase:
    settings.data_dir.mkdir(parents=True)
    database = FillableDatabase(settings.data_dir / "cloudburst.sqlite3")
    migrate(database)
    return database


@pytest.fixture
def app(settings: Settings, clock: FakeClock, database: FillableDatabase) -> Flask:
    return create_app(settings, database=database, clock=clock)


def post_job(url: str, token: str, **overrides: Any) -> requests.Response:
    return requests.post(
        f"{url}/api/v1/jobs", json=job_body(**overrides),
        headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )  # fmt: skip


def test_a_full_disk_answers_507_keeps_every_acknowledged_job_and_recovers(
    live_url: str, admin_token: str, services: Services, database: FillableDatabase
) -> None:
    acknowledged = [post_job(live_url, admin_token, name=f"before {i}") for i in range(3)]
    assert {r.status_code for r in acknowledged} == {201}
    before = snapshot(services)

    database.full = True
    refused = [post_job(live_url, admin_token, frames="1-400", chunk_size=1) for _ in range(20)]
    assert {r.status_code for r in refused} == {507}
    for answer in refused:
        body = answer.json()
        assert body["code"] == "disk_full" and body["data"] is None
        assert body["message"].startswith("The daemon's disk is full")
        assert "free space" in body["message"]
    database.full = False
    assert snapshot(services) == before  # nothing half-written

    after = post_job(live_url, admin_token, name="after", frames="1-400", chunk_size=1)
    assert after.status_code == 201
    for answer in acknowledged:
        job = requests.get(
            f"{live_url}/api/v1/jobs/{answer.json()['data']['id']}",
            headers={"Authorization": f"Bearer {admin_token}"}, timeout=10,
        )  # fmt: skip
        assert job.status_code == 200 and job.json()["data"]["spec"]["name"].startswith("before")


def test_the_client_reports_a_full_disk_as_disk_full(
    live_url: str, admin_token: str, database: FillableDatabase
) -> None:
    client = DaemonClient(live_url, retries=1, backoff=0, sleep=lambda _: None,
                          auth=StaticToken(admin_token))  # fmt: skip
    database.full = True
    spec = JobSpec.model_validate(job_body(frames="1-400", chunk_size=1))
    with pytest.raises(DiskFull, match="The daemon's disk is full"):
        client.submit(spec)


def test_an_upload_onto_a_full_disk_answers_507_and_stores_nothing(
    live_url: str, admin_token: str, services: Services
) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    created = requests.post(f"{live_url}/api/v1/storage/upload", headers=auth, timeout=10,
                            json={"path": "show/plate.bin", "size": 4})  # fmt: skip
    assert created.status_code == 201, created.text
    upload = created.json()["data"]
    part = services.files.uploads_dir / f"{upload['id']}.part"
    part.unlink()
    part.symlink_to("/dev/full")  # its writes fail with ENOSPC, as on a full disk
    sent = requests.put(f"{live_url}/api/v1/storage/upload/{upload['id']}?offset=0",
                        data=b"abcd", headers=auth, timeout=10)  # fmt: skip
    assert sent.status_code == 507
    assert sent.json()["code"] == "disk_full"
    info = requests.get(f"{live_url}/api/v1/storage/upload/{upload['id']}", headers=auth,
                        timeout=10)  # fmt: skip
    assert info.json()["data"]["received"] == 0


def test_a_transaction_that_meets_a_full_disk_leaves_the_connection_usable(
    tmp_path: Path,
) -> None:
    database = FillableDatabase(tmp_path / "db.sqlite3")
    migrate(database)
    database.full = True
    with pytest.raises(sqlite3.OperationalError) as caught, database.transaction() as db:
        db.conn.executemany(
            "INSERT INTO daemon_logs (time, level, service, message) VALUES (0, 20, 's', ?)",
            [("x" * 1000,)] * 200,
        )
    assert disk_full_cause(caught.value) is caught.value  # not "cannot rollback"
    assert not database.db.conn.in_transaction
    database.full = False
    with database.transaction() as db:
        db.execute(
            "INSERT INTO daemon_logs (time, level, service, message) VALUES (0, 20, 's', 'm')"
        )
    other = sqlite3.connect(tmp_path / "db.sqlite3")
    assert other.execute("SELECT count(*) FROM daemon_logs").fetchone()[0] == 1


def full_sqlite_error() -> sqlite3.Error:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    try:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 100)
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("the database did not fill")


def chained(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("while storing") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    ("make", "full"),
    [
        (full_sqlite_error, True),
        (lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), True),
        (lambda: OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)), True),
        (lambda: chained(OSError(errno.ENOSPC, "no space")), True),
        (lambda: OSError(errno.EACCES, "denied"), False),
        (lambda: sqlite3.IntegrityError("UNIQUE constraint failed"), False),
        (lambda: ValueError("nothing to do with disks"), False),
    ],
)
def test_what_counts_as_a_full_disk(make: Any, full: bool) -> None:
    exc = make()
    assert (disk_full_cause(exc) is not None) is full
