"""The daemon's data folder is its user's only (0700) and its secrets are 0600: the database with
its WAL and shared memory, the token signing key, the local admin key. A real daemon process
makes them so, and narrows an older, wider folder on its next start without losing a key."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.daemon.calls import job_body
from tests.e2e.farm import Farm

SECRETS = (
    "cloudburst.sqlite3", "cloudburst.sqlite3-wal", "cloudburst.sqlite3-shm", "auth-signing.key",
    "local-admin.json",
)  # fmt: skip


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    old = os.umask(0o022)  # the usual umask, inherited by the daemon: files would be 0644
    farm = Farm(tmp_path)
    try:
        yield farm
    finally:
        farm.stop_all()
        os.umask(old)


def submit_with_local_admin(farm: Farm) -> requests.Response:
    token = json.loads((farm.data_dir / "local-admin.json").read_text())["token"]
    return requests.post(
        f"{farm.url}/api/v1/jobs", json=job_body(owner="local-admin"), timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip


def test_a_new_data_folder_and_its_secrets_are_the_owner_s_only(farm: Farm) -> None:
    farm.start_daemon()
    assert submit_with_local_admin(farm).status_code == 201  # the WAL has a commit in it
    assert mode(farm.data_dir) == 0o700
    for name in SECRETS:
        assert mode(farm.data_dir / name) == 0o600, name


def test_an_older_wider_folder_is_narrowed_on_start_and_keeps_its_keys(farm: Farm) -> None:
    farm.start_daemon()
    assert submit_with_local_admin(farm).status_code == 201
    farm.stop_all()
    key = (farm.data_dir / "auth-signing.key").read_bytes()
    admin = (farm.data_dir / "local-admin.json").read_bytes()
    os.chmod(farm.data_dir, 0o755)
    for path in farm.data_dir.iterdir():
        if path.is_file():
            os.chmod(path, 0o644)
    (farm.data_dir / "cloudburst.sqlite3-wal").touch(mode=0o644)  # as a crash leaves them
    (farm.data_dir / "cloudburst.sqlite3-shm").touch(mode=0o644)
    farm.start_daemon()
    assert mode(farm.data_dir) == 0o700
    for name in SECRETS:
        assert mode(farm.data_dir / name) == 0o600, name
    assert (farm.data_dir / "auth-signing.key").read_bytes() == key
    assert (farm.data_dir / "local-admin.json").read_bytes() == admin
    assert submit_with_local_admin(farm).status_code == 201  # the old admin key still works
