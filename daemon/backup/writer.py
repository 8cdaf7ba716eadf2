"""Taking one backup of a live data folder: copy, store, verify, then publish the manifest.

The main database is copied first, with SQLite's online backup API: that copy is the backup's
consistent point (every job acknowledged before it is in it). The other SQLite files follow
the same way, then the keys, the stored files, the thumbnails and the config file. Each copy
passes ``PRAGMA integrity_check`` before it is stored. Bytes are stored under their xxh3-128
hash, once per backup; an incremental stores only what its full lacks. Before the manifest is
written, every object this backup stored is read back and hashed, and every object it borrows
from its full is checked to be there at its size. A backup that fails any step leaves no
manifest and its objects are removed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

from common.data.errors import SourceChanged
from common.data.hashing import hash_bytes, hash_file
from common.data.multipart import PART_SIZE, MultipartJournal, upload_multipart
from common.errors import UserFacingError
from common.models import BackupKind
from daemon.backup.contents import CONFIG, DATABASE, Source, sources
from daemon.backup.errors import BackupDamaged
from daemon.backup.manifest import Manifest, ManifestEntry, new_id, object_key
from daemon.backup.repository import STALE_RUN_S, Repository
from daemon.storage.snapshot import copy_online, integrity_problems, schema_version

logger = logging.getLogger(__name__)

#: The working folders of backups in the data folder (copies of databases before they go).
WORK_PREFIX = ".backup-"


class DatabaseCopyFailed(UserFacingError):
    """A SQLite file of the data folder could not be copied, or its copy is not sound."""

    code = "database_copy_failed"
    status = 500


class UnreadableFile(UserFacingError):
    """A file of the data folder cannot be read (permissions, a failing disk)."""

    code = "unreadable_file"
    status = 500


class BackupWriter:
    """Writes one backup of ``data_dir`` to ``repo``."""

    def __init__(
        self,
        repo: Repository,
        data_dir: Path,
        config: Path | None,
        clock: Callable[[], float],
    ) -> None:
        self.repo = repo
        self.data_dir = data_dir
        self.config = config
        self.clock = clock

    def take(self, kind: BackupKind, base: Manifest | None) -> Manifest:
        """Takes, verifies and publishes a backup; ``base`` is the full an incremental
        builds on.

        Raises:
            InvalidInput: the data folder holds no database.
            DatabaseCopyFailed: a database could not be copied soundly.
            BackupDamaged: the destination did not keep what was written.
            DataError: the destination failed (unreachable, refused).
        """
        assert (kind is BackupKind.FULL) == (base is None)
        files = sources(self.data_dir, self.config)  # before anything is written
        self._remove_stale_work()
        backup_id = new_id(self.clock(), kind)
        started = self.clock()
        self.repo.begin(backup_id, "backup", started)
        try:
            with tempfile.TemporaryDirectory(prefix=WORK_PREFIX, dir=self.data_dir) as work:
                run = _Run(self.repo, backup_id, base, Path(work))
                for source in files:
                    run.add(source)
            run.verify()
            manifest = Manifest(
                id=backup_id, kind=kind, base=base.id if base else None, created_at=started,
                verified_at=self.clock(), schema_version=run.schema, entries=run.entries,
                source=f"{socket.gethostname()}:{self.data_dir.absolute()}",
                config_source=str(self.config) if run.has(CONFIG) else None,
            )  # fmt: skip
            self.repo.finish(manifest)
        except BaseException:
            logger.warning("Backup %s to %s failed; removing what it wrote", backup_id,
                           self.repo.name)  # fmt: skip
            try:
                self.repo.delete(backup_id, self.clock())
            except Exception:  # the sweep of a later backup removes it
                logger.warning("Could not remove the failed backup %s yet", backup_id)
            raise
        logger.info(
            "Backup %s (%s) to %s: %d file(s), %d bytes, %d stored", backup_id, kind.value,
            self.repo.name, len(manifest.entries), manifest.size, manifest.stored,
        )  # fmt: skip
        return manifest

    def _remove_stale_work(self) -> None:
        """Removes the working folders of backups killed a day ago or more (their copies of
        the database would otherwise stay in the data folder)."""
        for folder in self.data_dir.glob(f"{WORK_PREFIX}*"):
            with contextlib.suppress(OSError):
                if self.clock() - folder.stat().st_mtime > STALE_RUN_S:
                    shutil.rmtree(folder)
                    logger.info("Removed %s, left by a backup that was cut short", folder)


class _Run:
    """The state of one backup being written."""

    def __init__(self, repo: Repository, backup_id: str, base: Manifest | None, work: Path):
        self.repo = repo
        self.id = backup_id
        self.base = base
        self.work = work
        self.in_base = {e.hash: e.size for e in base.entries} if base else {}
        self.stored: dict[str, int] = {}
        self.entries: list[ManifestEntry] = []
        self.schema = 0
        self.journal = MultipartJournal(None, repo.store.name)

    def has(self, name: str) -> bool:
        return any(entry.name == name for entry in self.entries)

    def add(self, source: Source) -> None:
        path = self._database_copy(source) if source.is_database else source.path
        try:
            if path.stat().st_size <= PART_SIZE:
                data = path.read_bytes()  # one read: what is hashed is what is stored
                digest, size = hash_bytes(data), len(data)
                if self._holder(digest) is None:
                    self.repo.put(self.id, digest, data)
                    self.stored[digest] = size
            else:
                digest, size = self._large(path)
        except FileNotFoundError:  # deleted since the listing (a purged trash file)
            logger.info("%s went away during the backup; left out", source.name)
            return
        except OSError as exc:
            raise UnreadableFile(
                f"Cannot read {source.path} ({exc.strerror or exc}). Run the backup as the "
                "user the daemon runs as."
            ) from exc
        holder = self._holder(digest)
        assert holder is not None
        self.entries.append(ManifestEntry(name=source.name, hash=digest, size=size, holder=holder))

    def verify(self) -> None:
        """Reads back what this backup stored; checks what it borrows from its full is there."""
        for digest, size in self.stored.items():
            self.repo.read_checked(self.id, digest, size)
        borrowed = {e.hash: e.size for e in self.entries if e.holder != self.id}
        if borrowed and self.base is not None:
            present = self.repo.present(self.base.id)
            missing = sorted(h for h, size in borrowed.items() if present.get(h) != size)
            if missing:
                raise BackupDamaged(
                    f"The full backup {self.base.id} at {self.repo.name} lacks {len(missing)} "
                    "object(s) this incremental needs. Take a full backup (--full)."
                )

    def _holder(self, digest: str) -> str | None:
        if digest in self.in_base and self.base is not None:
            return self.base.id
        return self.id if digest in self.stored else None

    def _large(self, path: Path) -> tuple[str, int]:
        """Stores a large file in parts; one changing while read (an upload in progress) is
        copied first and the copy stored."""
        for attempt in range(2):
            digest, size = hash_file(path)
            if self._holder(digest) is not None:
                return digest, size
            try:
                key = object_key(self.id, digest)
                upload_multipart(self.repo.store, self.journal, key, path, digest, size)
            except SourceChanged:
                if attempt:
                    raise
                held = self.work / f"held-{len(self.entries)}"
                shutil.copyfile(path, held)
                path = held
                continue
            self.stored[digest] = size
            return digest, size
        raise AssertionError("unreachable")

    def _database_copy(self, source: Source) -> Path:
        copy = self.work / f"db-{len(self.entries)}.sqlite3"
        try:
            copy_online(source.path, copy)
        except Exception as exc:  # sqlite3.Error, OSError
            raise DatabaseCopyFailed(
                f"Cannot copy the database {source.path}: {exc}. Check that it is the daemon's "
                "data folder and that there is free space in it."
            ) from exc
        problems = integrity_problems(copy)
        if problems:
            raise DatabaseCopyFailed(
                f"The copy of {source.path} fails SQLite's integrity check "
                f"({'; '.join(problems[:3])}). The database may be damaged: restore the newest "
                "good backup (cloudburst backup --list)."
            )
        if source.name == DATABASE:
            self.schema = schema_version(copy)
        return copy
