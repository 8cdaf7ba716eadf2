"""Restoring: a folder a daemon serves with every old credential valid, built whole or not at
all, never over anything, never outside itself."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import requests

from common.cli.local_admin import local_admin
from common.models import BackupKind
from daemon.backup.contents import UnsafeBackup
from daemon.backup.errors import BackupDamaged, BackupNotFound, RestoreTargetNotEmpty
from daemon.backup.manifest import object_key
from daemon.services.backup import BackupService
from tests.daemon.backup.helpers import Farm, build_farm, get, serve
from tests.daemon.ops.helpers import store_file


@pytest.fixture
def farm(tmp_path: Path) -> Farm:
    return build_farm(tmp_path)


def leftovers(folder: Path) -> list[str]:
    """Hidden folders a restore builds in."""
    return [p.name for p in folder.iterdir() if ".restoring-" in p.name]


def test_the_restored_daemon_accepts_every_old_credential_over_http(
    farm: Farm, tmp_path: Path
) -> None:
    service = farm.backups(tmp_path / "backups")
    service.take()
    new = tmp_path / "restored"
    service.restore(new)
    admin_file = local_admin(new).token
    assert admin_file == local_admin(farm.data_dir).token

    with serve(new, farm.clock) as url:
        jobs = get(url, "/jobs", farm.admin_key)
        assert jobs.status_code == 200, jobs.text
        assert sorted(j["id"] for j in jobs.json()["data"]["items"]) == sorted(farm.job_ids)
        assert get(url, "/jobs", admin_file).status_code == 200  # local-admin.json's key
        me = get(url, "/auth/me", farm.access_token)  # a JWT signed before the backup
        assert me.status_code == 200 and me.json()["data"]["name"] == "ana"
        refreshed = requests.post(f"{url}/api/v1/auth/refresh", timeout=10,
                                  json={"refresh_token": farm.refresh_token})  # fmt: skip
        assert refreshed.status_code == 200, refreshed.text
        beat = requests.post(
            f"{url}/api/v1/agents/{farm.agent_id}/heartbeat", json={"task_ids": []}, timeout=10,
            headers={"Authorization": f"Bearer {farm.agent_token}"},
        )  # fmt: skip
        assert beat.status_code == 200, beat.text
        assert get(url, "/jobs", "cbk_made-up-key").status_code == 401  # still checked
        task = farm.services.jobs.tasks(farm.job_ids[0])[0]
        log = get(url, f"/jobs/{farm.job_ids[0]}/tasks/{task.id}/log?attempt=1", farm.admin_key)
        assert log.status_code == 200 and log.json()["data"]["text"] == "Fra:1 Mem:12M\n"


def test_the_restored_folder_is_private(farm: Farm, tmp_path: Path) -> None:
    service = farm.backups(tmp_path / "backups")
    service.take()
    new = tmp_path / "restored"
    service.restore(new)
    paths = [new, *new.rglob("*")]
    folders = {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_dir()}
    files = {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_file()}
    assert folders == {0o700} and files == {0o600}
    assert (new / "storage" / "show" / "sh010" / "plate.exr").read_bytes() == b"plate" * 1000


def test_an_incremental_restores_with_the_files_of_its_full(farm: Farm, tmp_path: Path) -> None:
    service = farm.backups(tmp_path / "backups")
    service.take(BackupKind.FULL)
    store_file(farm.services, "ana", "show/sh020/new.exr", b"later")
    incremental = service.take(BackupKind.INCREMENTAL)
    service.restore(tmp_path / "restored", incremental.id)
    storage = tmp_path / "restored" / "storage" / "show"
    assert (storage / "sh020" / "new.exr").read_bytes() == b"later"
    assert (storage / "sh010" / "plate.exr").read_bytes() == b"plate" * 1000


def test_restore_never_writes_into_a_folder_that_holds_anything(farm: Farm, tmp_path: Path) -> None:
    service = farm.backups(tmp_path / "backups")
    service.take()
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(RestoreTargetNotEmpty, match="not an empty folder"):
        service.restore(target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path) == []
    empty = tmp_path / "empty"
    empty.mkdir()
    service.restore(empty)  # an empty folder is fine
    assert (empty / "cloudburst.sqlite3").is_file()


def backed_up(farm: Farm, destination: Path) -> tuple[BackupService, str, Path]:
    """A backup of the farm: the service, the backup's id and its manifest file."""
    service = farm.backups(destination)
    backup_id = service.take().id
    return service, backup_id, destination / "manifests" / f"{backup_id}.json"


def test_a_damaged_backup_leaves_nothing_that_looks_like_a_data_folder(
    farm: Farm, tmp_path: Path
) -> None:
    service, backup_id, path = backed_up(farm, tmp_path / "backups")
    manifest = json.loads(path.read_text())
    plate = next(e for e in manifest["entries"] if e["name"].endswith("plate.exr"))
    stored = tmp_path / "backups" / object_key(backup_id, plate["hash"])
    stored.write_bytes(b"Plate" + stored.read_bytes()[5:])  # one bit of rot
    with pytest.raises(BackupDamaged, match="does not hold the bytes written"):
        service.restore(tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
    assert leftovers(tmp_path) == []
    with pytest.raises(BackupDamaged):
        service.verify(backup_id)


def test_a_tampered_manifest_cannot_write_outside_the_new_folder(
    farm: Farm, tmp_path: Path
) -> None:
    service, backup_id, path = backed_up(farm, tmp_path / "backups")
    manifest = json.loads(path.read_text())
    for bad in ("../escaped.txt", "/tmp/escaped.txt", "storage/../../escaped.txt", ".bashrc"):
        manifest["entries"][-1]["name"] = bad
        path.write_text(json.dumps(manifest))
        with pytest.raises((UnsafeBackup, BackupDamaged)):
            service.restore(tmp_path / "restored", backup_id)
        assert not (tmp_path / "restored").exists()
    assert not (tmp_path / "escaped.txt").exists() and leftovers(tmp_path) == []


def test_restore_names_what_is_missing(farm: Farm, tmp_path: Path) -> None:
    service = farm.backups(tmp_path / "backups")
    with pytest.raises(BackupNotFound, match="no finished backup"):
        service.restore(tmp_path / "restored")
    service.take()
    with pytest.raises(BackupNotFound, match="cloudburst backup --list"):
        service.restore(tmp_path / "restored", "20990101T000000Z-full-0000")
    with pytest.raises(BackupNotFound, match="not a backup id"):
        service.restore(tmp_path / "restored", "../../etc")
    assert not (tmp_path / "restored").exists()
