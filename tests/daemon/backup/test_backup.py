"""Taking backups of a live data folder: consistent, complete, incremental, verified, and never
reaching outside the folder."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from common.data.folder_store import FolderStore
from common.data.hashing import hash_bytes
from common.errors import InvalidInput
from common.models import BackupKind
from daemon.backup import writer
from daemon.backup.errors import BackupDamaged
from daemon.backup.manifest import manifest_key, object_key
from daemon.backup.repository import Repository
from daemon.services.backup import BackupService
from tests.daemon.backup.helpers import Farm, build_farm
from tests.daemon.ops.helpers import store_file


@pytest.fixture
def farm(tmp_path: Path) -> Farm:
    return build_farm(tmp_path)


def job_count(database: Path) -> int:
    """Jobs in a database file opened on its own (no WAL beside it: 0 when it has no table)."""
    with closing(sqlite3.connect(database)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM jobs").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def objects(destination: Path, backup_id: str) -> set[str]:
    folder = destination / "objects" / backup_id
    return {p.parent.name + p.name for p in folder.rglob("*") if p.is_file()}


def names(manifest_file: Path) -> dict[str, dict[str, object]]:
    return {e["name"]: e for e in json.loads(manifest_file.read_text())["entries"]}


def test_a_backup_holds_the_newest_commits_that_a_plain_copy_misses(
    farm: Farm, tmp_path: Path
) -> None:
    for name in ("late1", "late2"):
        farm.submit(name)
    live = farm.data_dir / "cloudburst.sqlite3"
    assert (farm.data_dir / "cloudburst.sqlite3-wal").stat().st_size > 0  # the daemon runs
    shutil.copyfile(live, tmp_path / "plain.sqlite3")
    assert job_count(tmp_path / "plain.sqlite3") < len(farm.job_ids)  # the finding

    service = farm.backups(tmp_path / "backups")
    info = service.take()
    service.restore(tmp_path / "restored", info.id)
    assert job_count(tmp_path / "restored" / "cloudburst.sqlite3") == len(farm.job_ids) == 5


def test_a_full_backup_holds_everything_a_restore_needs(farm: Farm, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('log_level = "INFO"\n')
    settings = farm.settings.model_copy()
    service = BackupService(settings, farm.clock, config=config)
    for other in ("agents/a/outbox.sqlite3", "node-cache/ab/blob", "simcloud/n1/env.json"):
        (farm.data_dir / other).parent.mkdir(parents=True)
        (farm.data_dir / other).write_text("not the daemon's state")
    info = service.take(BackupKind.FULL, str(tmp_path / "backups"))
    assert info.kind is BackupKind.FULL and info.base is None
    entries = names(tmp_path / "backups" / "manifests" / f"{info.id}.json")
    assert not [n for n in entries if n.split("/")[0] in ("agents", "node-cache", "simcloud")]
    assert not [n for n in entries if n.endswith(("-wal", "-shm"))]
    trashed = [n for n in entries if n.startswith("storage/.cloudburst/trash/")]
    assert {"cloudburst.sqlite3", "auth-signing.key", "local-admin.json", "config.toml",
            "storage/show/sh010/plate.exr"} <= set(entries)  # fmt: skip
    assert len(trashed) == 1  # a deleted file stays restorable after a restore
    assert any(n.startswith("thumbnails/") for n in entries)
    assert any(n.startswith("task-logs/") and n.endswith(".log") for n in entries)
    assert info.schema_version >= 6 and info.files == len(entries)
    key = (farm.data_dir / "auth-signing.key").read_bytes()
    assert entries["auth-signing.key"]["hash"] == hash_bytes(key)


def test_an_incremental_stores_only_what_its_full_lacks(farm: Farm, tmp_path: Path) -> None:
    destination = tmp_path / "backups"
    service = farm.backups(destination)
    full = service.take(BackupKind.FULL)
    store_file(farm.services, "ana", "show/sh020/new.exr", b"new frame" * 500)
    farm.submit("after the full")
    incremental = service.take(BackupKind.INCREMENTAL)

    assert incremental.kind is BackupKind.INCREMENTAL and incremental.base == full.id
    entries = names(destination / "manifests" / f"{incremental.id}.json")
    mine = {n for n, e in entries.items() if e["holder"] == incremental.id}
    assert mine == {"cloudburst.sqlite3", "storage/show/sh020/new.exr"}  # the db always
    assert entries["storage/show/sh010/plate.exr"]["holder"] == full.id
    assert objects(destination, incremental.id) == {entries[n]["hash"] for n in mine}
    assert incremental.stored == sum(int(entries[n]["size"]) for n in mine)  # type: ignore[call-overload]
    assert incremental.stored < full.stored


def test_without_a_full_an_incremental_becomes_full(farm: Farm, tmp_path: Path) -> None:
    info = farm.backups(tmp_path / "backups").take(BackupKind.INCREMENTAL)
    assert info.kind is BackupKind.FULL


class CorruptingStore(FolderStore):
    """Keeps a different byte than it was given for the objects of one content hash."""

    def __init__(self, root: Path, digest: str) -> None:
        super().__init__(root)
        self.digest = digest

    def put(self, key: str, data: bytes) -> None:
        if key.endswith(self.digest[2:]):
            data = b"X" + data[1:]
        super().put(key, data)


def test_a_backup_the_destination_did_not_keep_is_refused_and_removed(
    farm: Farm, tmp_path: Path
) -> None:
    key_hash = hash_bytes((farm.data_dir / "auth-signing.key").read_bytes())
    destination = tmp_path / "backups"
    store = CorruptingStore(destination, key_hash)
    service = BackupService(farm.backups(destination).settings, farm.clock, lambda _: store)
    with pytest.raises(BackupDamaged, match="does not hold the bytes written"):
        service.take()
    assert service.list_backups() == []
    assert [p for p in destination.rglob("*") if p.is_file()] == []  # nothing half-written left


def test_a_backup_never_follows_a_symlink_out_of_the_data_folder(
    farm: Farm, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not the farm's")
    (farm.data_dir / "storage" / "show" / "link.txt").symlink_to(secret)
    (farm.data_dir / "storage" / "linked-folder").symlink_to(secret.parent)
    info = farm.backups(tmp_path / "backups").take()
    entries = names(tmp_path / "backups" / "manifests" / f"{info.id}.json")
    assert not [n for n in entries if "link" in n]
    assert hash_bytes(b"not the farm's") not in {e["hash"] for e in entries.values()}


def test_a_stored_file_named_like_a_database_is_backed_up_as_bytes(
    farm: Farm, tmp_path: Path
) -> None:
    store_file(farm.services, "ana", "show/notes.sqlite3", b"not a database at all")
    service = farm.backups(tmp_path / "backups")
    info = service.take()
    service.restore(tmp_path / "restored", info.id)
    restored = tmp_path / "restored" / "storage" / "show" / "notes.sqlite3"
    assert restored.read_bytes() == b"not a database at all"


def test_a_destination_inside_the_data_folder_is_refused(farm: Farm) -> None:
    destination = farm.data_dir / "storage" / "backups"
    with pytest.raises(InvalidInput, match="overlap"):
        farm.backups(destination).take()
    assert not destination.exists()


def test_a_folder_without_a_database_is_refused(tmp_path: Path, farm: Farm) -> None:
    empty = tmp_path / "not-a-daemon"
    empty.mkdir()
    settings = farm.settings.model_copy(update={"data_dir": empty})
    with pytest.raises(InvalidInput, match="holds no Cloudburst database"):
        BackupService(settings).take(destination=str(tmp_path / "backups"))
    assert not (tmp_path / "backups").exists()


def test_a_large_file_that_changes_while_it_is_read_is_stored_as_one_copy(
    farm: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = store_file(farm.services, "ana", "show/cache.abc", b"a" * 4096)
    path = farm.data_dir / "storage" / big.path
    monkeypatch.setattr(writer, "PART_SIZE", 1024)  # 4 KB is "large" here
    real_hash = writer.hash_file
    calls: list[Path] = []

    def hash_then_change(target: os.PathLike[str]) -> tuple[str, int]:
        result = real_hash(target)
        if Path(target) == path and path not in calls:
            path.write_bytes(b"b" * 5000)  # an upload in progress writes on
        calls.append(Path(target))
        return result

    monkeypatch.setattr(writer, "hash_file", hash_then_change)
    service = farm.backups(tmp_path / "backups")
    info = service.take()
    service.restore(tmp_path / "restored", info.id)
    assert (tmp_path / "restored" / "storage" / big.path).read_bytes() == b"b" * 5000
    assert calls[calls.index(path) + 1].name.startswith("held-")  # then a copy was stored


def test_prune_sweeps_what_crashed_backups_left(farm: Farm, tmp_path: Path) -> None:
    destination = tmp_path / "backups"
    service = farm.backups(destination)
    kept = service.take()
    repo = Repository(FolderStore(destination))
    crashed = "20270101T000000Z-full-dead"
    repo.begin(crashed, "backup", farm.clock())
    repo.put(crashed, "ab" * 16, b"half a backup")
    finished_marker = f"runs/{kept.id}.json"  # a backup that crashed after its manifest
    repo.store.put(finished_marker, json.dumps({"action": "backup", "at": 0}).encode())

    assert service.prune() == []  # too fresh to call crashed: it may still be running
    assert (destination / object_key(crashed, "ab" * 16)).exists()
    assert not (destination / finished_marker).exists()
    farm.clock.advance(2 * 86400)
    assert service.prune() == [crashed]
    assert not (destination / "objects" / crashed).exists()
    assert (destination / manifest_key(kept.id)).exists()
    assert [b.id for b in service.list_backups()] == [kept.id]


def test_a_backup_removes_the_working_folder_a_killed_one_left(farm: Farm, tmp_path: Path) -> None:
    stale, fresh = farm.data_dir / ".backup-killed", farm.data_dir / ".backup-running"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "db-0.sqlite3").write_bytes(b"a copy of the database")
    two_days_ago = farm.clock() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))
    os.utime(fresh, (farm.clock(), farm.clock()))
    farm.backups(tmp_path / "backups").take()
    assert not stale.exists()
    assert (fresh / "db-0.sqlite3").exists()  # another backup may be using it


def test_an_unreadable_file_stops_the_backup_with_a_sentence(
    farm: Farm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plate = farm.data_dir / "storage" / "show" / "sh010" / "plate.exr"
    read_bytes = Path.read_bytes

    def refuse(path: Path) -> bytes:
        if path == plate:
            raise PermissionError(13, "Permission denied")
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    service = farm.backups(tmp_path / "backups")
    with pytest.raises(writer.UnreadableFile, match="as the user the daemon runs as"):
        service.take()
    assert service.list_backups() == []
    assert [p for p in (tmp_path / "backups").rglob("*") if p.is_file()] == []
