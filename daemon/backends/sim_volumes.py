"""The simulated cloud's boot volumes and their backups: folders under one root.

```
<root>/volumes/<volume id>/home/         what the desktop's user sees (its files)
<root>/volumes/<volume id>/secret        the session's secret (0600, not in home)
<root>/volumes/<volume id>/previous-backup   the volume's newest backup (incrementals start there)
<root>/backups/<backup id>/backup.json   what the backup is (``BackupRecord``)
<root>/backups/<backup id>/home/         the files this backup holds itself
<root>/archive/<backup id>.tar.gz        an archived backup (without an object store)
```

A full backup holds every file of home. An incremental one holds only the files that changed
(size or modification time) since the volume's previous backup, and lists every file with the
backup that holds its bytes: restoring any backup copies each listed file from its holder, so
a restored home is exactly the home that was backed up (files deleted since are not brought
back). A deleted backup is marked ``terminated`` and its folder stays while a live backup
still takes files from it, as a cloud keeps the blocks an incremental backup refers to.

Symbolic links and empty folders in home are not kept (a boot volume's image would keep them;
this stand-in keeps the files a user works on). Not thread-safe: ``SimDesktops`` serialises
the calls that change the shelf; ``copy`` (the long one) runs outside its lock and
changes nothing but its own backup's files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tarfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from common.private_files import private_dir
from daemon.backends.desktops import BackupKind, BackupState

RECORD = "backup.json"
BACKUP_ID = re.compile(r"simbackup-[0-9a-f]{12}")
PREVIOUS = "previous-backup"


class BackupRecord(BaseModel):
    """One backup as kept beside its files."""

    model_config = ConfigDict(extra="forbid")

    id: str
    volume_id: str
    kind: BackupKind
    state: BackupState
    created_at: float
    name: str = ""
    based_on: str | None = None
    """The backup an incremental one took unchanged files from (None: a full copy)."""
    files: dict[str, tuple[int, int, str]] = {}
    """Every file of home: relative path -> (size, mtime in ns, the backup holding it)."""
    detail: str = ""

    @property
    def size_bytes(self) -> int:
        return sum(size for size, _, _ in self.files.values())


class VolumeShelf:
    """Boot volumes and backups under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.volumes = self.root / "volumes"
        self.backups = self.root / "backups"
        self.archive = self.root / "archive"

    # --- volumes ---------------------------------------------------------------------------

    def volume(self, volume_id: str) -> Path:
        return self.volumes / volume_id

    def home(self, volume_id: str) -> Path:
        return self.volume(volume_id) / "home"

    def new_volume(self, volume_id: str, from_backup: str | None = None) -> Path:
        """Makes an empty volume (the image's), or one holding ``from_backup``'s files."""
        folder = private_dir(self.volume(volume_id))
        home = self.home(volume_id)
        home.mkdir(exist_ok=True)
        if from_backup is not None:
            record = self.record(from_backup)
            if record is None:
                raise FileNotFoundError(from_backup)
            self._restore(record, home)
            (folder / PREVIOUS).write_text(record.id)
        return folder

    def volume_folders(self) -> list[Path]:
        """Every volume's folder (named by its id)."""
        try:
            return sorted(p for p in self.volumes.iterdir() if p.is_dir() and not p.is_symlink())
        except FileNotFoundError:
            return []

    def remove_volume(self, volume_id: str) -> None:
        shutil.rmtree(self.volume(volume_id), ignore_errors=True)

    # --- backups ---------------------------------------------------------------------------

    def start_backup(
        self, backup_id: str, volume_id: str, kind: BackupKind, name: str, created_at: float
    ) -> BackupRecord:
        """Records a backup of the volume as ``creating``; ``copy`` fills it."""
        record = BackupRecord(
            id=backup_id,
            volume_id=volume_id,
            kind=kind,
            state=BackupState.CREATING,
            created_at=created_at,
            name=name,
        )
        (self.backups / backup_id).mkdir(parents=True)
        self._save(record)
        return record

    def copy(self, backup_id: str) -> BackupRecord:
        """Copies the volume's home into the backup; returns the record ``finish`` stores:
        ``available``, or ``faulty`` when the volume could not be read. The long part, run
        outside the caller's lock."""
        record = self.record(backup_id)
        assert record is not None
        base = self._base(record)
        held = self.backups / backup_id / "home"
        files: dict[str, tuple[int, int, str]] = {}
        try:
            home = self.home(record.volume_id)
            for path in _files_under(home):
                relative = path.relative_to(home).as_posix()
                status = path.lstat()
                key = (status.st_size, status.st_mtime_ns)
                before = base.files.get(relative) if base is not None else None
                if before is not None and before[:2] == key:
                    files[relative] = before
                    continue
                target = held / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target, follow_symlinks=False)
                files[relative] = (*key, backup_id)
        except OSError as exc:
            done = record.model_copy(
                update={"state": BackupState.FAULTY, "detail": f"cannot read the volume: {exc}"}
            )
        else:
            done = record.model_copy(
                update={
                    "state": BackupState.AVAILABLE,
                    "files": files,
                    "based_on": base.id if base is not None else None,
                }
            )
        return done

    def finish(self, done: BackupRecord) -> BackupRecord:
        """Stores a copied backup (still deleted when it was deleted meanwhile); it becomes
        its volume's previous backup."""
        if self._current_state(done.id) is BackupState.TERMINATED:
            done = done.model_copy(update={"state": BackupState.TERMINATED})
        self._save(done)
        previous = self.volume(done.volume_id) / PREVIOUS
        if done.state is BackupState.AVAILABLE and previous.parent.is_dir():
            previous.write_text(done.id)
        self.collect()
        return done

    def fail(self, backup_id: str, detail: str) -> None:
        """Marks a backup whose copy broke off ``faulty``."""
        record = self.record(backup_id)
        if record is not None and record.state is BackupState.CREATING:
            self.finish(record.model_copy(update={"state": BackupState.FAULTY, "detail": detail}))

    def unfinished(self) -> list[BackupRecord]:
        """The backups still ``creating`` (their copy broke off when the daemon stopped)."""
        found = (self.record(backup_id) for backup_id in self._backup_ids())
        return [r for r in found if r is not None and r.state is BackupState.CREATING]

    def record(self, backup_id: str) -> BackupRecord | None:
        """The backup's record; None when unknown (or its folder is gone)."""
        if not BACKUP_ID.fullmatch(backup_id):  # it names a folder: ours, or none
            return None
        try:
            text = (self.backups / backup_id / RECORD).read_text(encoding="utf-8")
            return BackupRecord.model_validate_json(text)
        except (OSError, ValidationError):
            return None

    def delete(self, backup_id: str) -> None:
        """Marks the backup deleted and removes what no live backup needs. Idempotent."""
        record = self.record(backup_id)
        if record is not None and record.state is not BackupState.TERMINATED:
            self._save(record.model_copy(update={"state": BackupState.TERMINATED}))
        self.collect()

    def collect(self) -> None:
        """Removes the folders of deleted backups that no live backup takes files from (none
        while a copy is under way: it may be taking files from any of them)."""
        records = [r for r in map(self.record, self._backup_ids()) if r is not None]
        if any(r.state is BackupState.CREATING for r in records):
            return
        needed = {
            holder
            for r in records
            if r.state is not BackupState.TERMINATED
            for _, _, holder in r.files.values()
        }
        for r in records:
            if r.state is BackupState.TERMINATED and r.id not in needed:
                shutil.rmtree(self.backups / r.id, ignore_errors=True)

    def write_archive(self, backup_id: str, target: Path) -> None:
        """Writes the backup's whole home (its chain applied) as a tar.gz at ``target``: the
        archive stands alone once the backup is deleted."""
        record = self.record(backup_id)
        assert record is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as archive:
            for relative, (_, _, holder) in sorted(record.files.items()):
                source = self.backups / holder / "home" / relative
                archive.add(source, arcname=f"home/{relative}", recursive=False)

    # --- inside ----------------------------------------------------------------------------

    def _base(self, record: BackupRecord) -> BackupRecord | None:
        """What an incremental backup starts from: the volume's previous live backup."""
        if record.kind is BackupKind.FULL:
            return None
        try:
            previous = (self.volume(record.volume_id) / PREVIOUS).read_text().strip()
        except OSError:
            return None
        base = self.record(previous)
        if base is None or base.state is not BackupState.AVAILABLE:
            return None
        return base

    def _restore(self, record: BackupRecord, home: Path) -> None:
        for relative, (_, _, holder) in record.files.items():
            target = home / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.backups / holder / "home" / relative, target)

    def _current_state(self, backup_id: str) -> BackupState | None:
        found = self.record(backup_id)
        return None if found is None else found.state

    def _backup_ids(self) -> list[str]:
        try:
            return sorted(entry.name for entry in os.scandir(self.backups) if entry.is_dir())
        except FileNotFoundError:
            return []

    def _save(self, record: BackupRecord) -> None:
        folder = self.backups / record.id
        tmp = folder / f"{RECORD}.tmp"
        tmp.write_text(json.dumps(record.model_dump(mode="json"), indent=1), encoding="utf-8")
        os.replace(tmp, folder / RECORD)


def _files_under(folder: Path) -> list[Path]:
    """The regular files under ``folder`` (links are not followed, nor kept)."""
    found: list[Path] = []
    for top, folders, names in os.walk(folder):
        here = Path(top)
        folders[:] = [n for n in folders if not (here / n).is_symlink()]
        found += [here / n for n in names if stat.S_ISREG((here / n).lstat().st_mode)]
    return sorted(found)
