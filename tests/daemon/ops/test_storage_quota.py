"""Storage quotas per user and per show, and the size of one file, over real HTTP (waitress).

Quotas here are small (1,000 bytes a user, 1,500 a show) so that filling one is cheap.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import requests

from common.accounts import Role
from common.config import Settings
from common.limits_settings import GIB, LimitSettings
from common.ops_settings import StorageSettings
from daemon.app import Services
from tests.conftest import FakeClock, user_token
from tests.daemon.ops.helpers import ops_snapshot

URL = "/api/v1/storage"


class Caller:
    """One signed-in user talking to the daemon over HTTP."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base + URL
        self.headers = {"Authorization": f"Bearer {token}"}

    def start(self, path: str, size: int) -> requests.Response:
        return requests.post(f"{self.base}/upload", json={"path": path, "size": size},
                             headers=self.headers, timeout=30)  # fmt: skip

    def store(self, path: str, data: bytes) -> dict[str, Any]:
        """Uploads ``data`` to ``path`` in one part; the stored file."""
        started = self.start(path, len(data))
        assert started.status_code == 201, started.text
        upload_id = started.json()["data"]["id"]
        part = self.send(upload_id, 0, data)
        assert part.status_code == 200, part.text
        checksum = {"checksum": hashlib.sha256(data).hexdigest()}
        done = requests.post(f"{self.base}/upload/{upload_id}/complete", json=checksum,
                             headers=self.headers, timeout=30)  # fmt: skip
        assert done.status_code == 201, done.text
        stored: dict[str, Any] = done.json()["data"]
        return stored

    def send(self, upload_id: str, offset: int, data: bytes) -> requests.Response:
        return requests.put(f"{self.base}/upload/{upload_id}", params={"offset": offset},
                            data=data, headers=self.headers, timeout=30)  # fmt: skip

    def usage(self, **params: str) -> requests.Response:
        return requests.get(f"{self.base}/usage", params=params, headers=self.headers, timeout=30)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        storage=StorageSettings(max_file_bytes=800, max_part_bytes=1000, trash_ttl_s=3600),
        limits=LimitSettings(storage_per_user_bytes=1000, storage_per_show_bytes=1500),
    )


@pytest.fixture
def ana(live_url: str, services: Services) -> Caller:
    return Caller(live_url, user_token(services, "ana", Role.ARTIST))


@pytest.fixture
def ben(live_url: str, services: Services) -> Caller:
    return Caller(live_url, user_token(services, "ben", Role.ARTIST))


def assert_quota(response: requests.Response, scope: str, used: int, quota: int) -> None:
    assert response.status_code == 413, response.text
    error = response.json()
    assert error["code"] == "quota_exceeded"
    assert f"already uses {used:,} of a {quota:,}-byte storage quota" in error["message"]
    assert f"(limits.storage_per_{scope}_bytes)" in error["message"]
    assert "Delete files you no longer need" in error["message"]
    assert (error["details"]["scope"], error["details"]["used_bytes"]) == (scope, used)


def test_a_user_past_their_quota_is_refused_with_the_figures_and_nothing_changes(
    ana: Caller, services: Services
) -> None:
    ana.store("sh1/a.bin", b"a" * 600)
    before = ops_snapshot(services)
    refused = ana.start("sh2/b.bin", 401)
    assert_quota(refused, "user", 600, 1000)
    assert "this upload needs 401 more" in refused.json()["message"]
    assert ops_snapshot(services) == before
    assert ana.start("sh2/b.bin", 400).status_code == 201  # exactly the quota fits


def test_unfinished_uploads_reserve_their_size(ana: Caller) -> None:
    assert ana.start("sh1/a.bin", 700).status_code == 201  # not one byte sent yet
    assert_quota(ana.start("sh1/b.bin", 301), "user", 700, 1000)


def test_a_show_is_bounded_whoever_uploads(ana: Caller, ben: Caller, services: Services) -> None:
    ana.store("show/a.bin", b"a" * 800)
    ben.store("show/b.bin", b"b" * 600)
    before = ops_snapshot(services)
    assert_quota(ben.start("show/c.bin", 101), "show", 1400, 1500)
    assert ops_snapshot(services) == before
    assert ben.start("other/c.bin", 101).status_code == 201  # another show: ben has room


def test_deleted_files_count_until_purged(
    ana: Caller, services: Services, clock: FakeClock
) -> None:
    stored = ana.store("sh1/a.bin", b"a" * 800)
    deleted = requests.delete(f"{ana.base}/{stored['id']}", headers=ana.headers, timeout=30)
    assert deleted.status_code == 200
    assert_quota(ana.start("sh1/b.bin", 300), "user", 800, 1000)
    clock.advance(3601)
    assert services.files.purge() == 1
    assert ana.start("sh1/b.bin", 300).status_code == 201


def test_a_part_is_refused_when_the_quota_was_lowered_since_the_upload_began(
    ana: Caller, services: Services, settings: Settings
) -> None:
    upload_id = ana.start("sh1/a.bin", 800).json()["data"]["id"]
    lower = LimitSettings(storage_per_user_bytes=500, storage_per_show_bytes=1500)
    services.files.quotas.limits = lower  # an admin lowered the quota and restarted
    before = ops_snapshot(services)
    refused = ana.send(upload_id, 0, b"a" * 100)
    assert_quota(refused, "user", 800, 500)
    assert "the upload no longer fits" in refused.json()["message"]
    assert ops_snapshot(services) == before


def test_a_file_over_the_size_limit_is_refused(ana: Caller) -> None:
    response = ana.start("sh1/big.bin", 801)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "(storage.max_file_bytes)" in response.json()["message"]


def test_usage_shows_the_callers_and_a_shows_figures(
    ana: Caller, ben: Caller, live_url: str, services: Services
) -> None:
    ana.store("show/a.bin", b"a" * 300)
    ana.start("show/b.bin", 200)
    ben.store("show/c.bin", b"c" * 100)
    usage = ana.usage(show="show").json()["data"]
    assert usage["user"] == {"scope": "user", "name": "ana", "used_bytes": 500,
                             "quota_bytes": 1000}  # fmt: skip
    assert usage["show"] == {"scope": "show", "name": "show", "used_bytes": 600,
                             "quota_bytes": 1500}  # fmt: skip
    assert ana.usage().json()["data"]["show"] is None
    refused = ben.usage(owner="ana")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    td = Caller(live_url, user_token(services, "tess", Role.TD))
    assert td.usage(owner="ana").json()["data"]["user"]["used_bytes"] == 500


class TestDefaults:
    """The defaults a studio gets without configuring anything."""

    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data")

    def test_one_file_and_one_user_are_bounded(self, ana: Caller, services: Services) -> None:
        assert_too = ana.start("sh1/huge.bin", 8 * GIB + 1)
        assert (assert_too.status_code, assert_too.json()["code"]) == (413, "too_large")
        for n in range(6):
            assert ana.start(f"sh{n}/big.bin", 8 * GIB).status_code == 201
        assert_quota(ana.start("sh7/big.bin", 8 * GIB), "user", 48 * GIB, 50 * GIB)
        usage = ana.usage().json()["data"]["user"]
        assert (usage["used_bytes"], usage["quota_bytes"]) == (48 * GIB, 50 * GIB)
