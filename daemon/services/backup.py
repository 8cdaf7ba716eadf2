"""Backups of the daemon's state: taken on the schedule or by hand, listed, pruned, verified,
restored.

The daemon's APScheduler calls ``run_scheduled`` once a day at ``[backup] time``; the kind
(full on the weekly day, else incremental) and what retention keeps are decided by the pure
``daemon.backup.policy``. ``cloudburst backup`` and ``cloudburst restore`` call the same
methods on a daemon's folder, running or not. Nothing here touches the daemon's open database:
copies go through their own SQLite connection (the online backup API).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from common.config import Settings
from common.data.store import ObjectStore
from common.errors import CloudburstError, InvalidInput
from common.models import BackupInfo, BackupKind
from daemon.backup import policy
from daemon.backup.destination import folder_of, open_destination, store_settings
from daemon.backup.errors import BackupNotFound, BackupsOff
from daemon.backup.manifest import Manifest
from daemon.backup.repository import Repository
from daemon.backup.restore import restore, write_files
from daemon.backup.writer import BackupWriter

logger = logging.getLogger(__name__)

#: Opens a destination (a folder or an object store URL) as a store; replaceable in tests.
DestinationOpener = Callable[[str], ObjectStore]


class BackupService:
    """Backups of ``settings.data_dir`` to ``settings.backup.destination`` (or one given)."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        open_store: DestinationOpener | None = None,
        config: Path | None = None,
    ) -> None:
        """Args:
        settings: the daemon's settings (``data_dir``, ``[backup]``, ``[store]``).
        clock: epoch seconds (a fake clock in tests).
        open_store: opens a destination; ``open_destination`` with the settings when None.
        config: the configuration file the daemon runs with, backed up with its state.
        """
        self.settings = settings
        self.clock = clock
        self.config = config
        self._open = open_store or (lambda destination: open_destination(destination, settings))
        self.zone = ZoneInfo(settings.backup.timezone)

    @property
    def enabled(self) -> bool:
        """Whether the daemon takes backups on its own (a destination is set)."""
        return bool(self.settings.backup.destination)

    # --- use cases ---------------------------------------------------------------------------

    def take(self, kind: BackupKind | None = None, destination: str | None = None) -> BackupInfo:
        """Takes one verified backup of the data folder; ``kind`` None: what the policy says.

        Raises:
            InvalidInput: no destination, or one inside the data folder; no database here.
            DatabaseCopyFailed, BackupDamaged, DataError: see ``BackupWriter.take``.
        """
        repo = self._repository(destination, writing=True)
        manifests = repo.manifests()
        refs = [_ref(m) for m in manifests]
        if kind is None:
            backup = self.settings.backup
            kind = policy.next_kind(refs, self.clock(), backup.full_weekday, self.zone)
        base: Manifest | None = None
        if kind is BackupKind.INCREMENTAL:
            full = policy.newest_full(refs)
            if full is None:
                logger.info("No full backup at %s yet: taking a full one", repo.name)
                kind = BackupKind.FULL
            else:
                base = next(m for m in manifests if m.id == full.id)
        writer = BackupWriter(repo, self.settings.data_dir, self.config, self.clock)
        return writer.take(kind, base).info()

    def prune(self, destination: str | None = None) -> list[str]:
        """Deletes what retention no longer keeps, and what crashed runs left; their ids."""
        repo = self._repository(destination)
        swept = repo.sweep(self.clock())
        refs = [_ref(m) for m in repo.manifests()]
        backup = self.settings.backup
        keep = policy.to_keep(refs, backup.keep_daily, backup.keep_weekly, self.zone)
        pruned = [ref.id for ref in refs if ref.id not in keep]
        for backup_id in pruned:
            repo.delete(backup_id, self.clock())
            logger.info("Pruned backup %s from %s", backup_id, repo.name)
        return swept + pruned

    def list_backups(self, destination: str | None = None) -> list[BackupInfo]:
        """The finished backups at the destination, oldest first.

        Raises:
            BackupsOff: no destination given and none configured.
        """
        return [m.info() for m in self._repository(destination).manifests()]

    def verify(self, backup_id: str | None = None, destination: str | None = None) -> BackupInfo:
        """Reads a whole backup back (the newest when no id) as a restore would, into a
        temporary folder, and checks every hash and database.

        Raises:
            BackupNotFound: no such backup. BackupDamaged: it would not restore.
        """
        repo = self._repository(destination)
        manifest = self._manifest(repo, backup_id)
        with tempfile.TemporaryDirectory(prefix="cloudburst-verify-") as folder:
            write_files(repo, manifest, Path(folder))
        return manifest.info()

    def restore(self, target: Path, backup_id: str | None = None, source: str | None = None
                ) -> BackupInfo:  # fmt: skip
        """Rebuilds a data folder at ``target`` from a backup (the newest when no id).

        Raises:
            RestoreTargetNotEmpty: ``target`` holds something. BackupNotFound, BackupDamaged.
        """
        repo = self._repository(source)
        manifest = self._manifest(repo, backup_id)
        restore(repo, manifest, target)
        return manifest.info()

    def run_scheduled(self) -> BackupInfo | None:
        """The daily backup (APScheduler's job): take one, then prune. Failures are logged,
        never raised, so the next day's run still comes."""
        try:
            info = self.take()
            self.prune()
        except (CloudburstError, OSError) as exc:
            message = exc.message if isinstance(exc, CloudburstError) else str(exc)
            logger.error("The scheduled backup to %s failed: %s",
                         self.settings.backup.destination, message)  # fmt: skip
            return None
        return info

    # --- helpers -----------------------------------------------------------------------------

    def _repository(self, destination: str | None, writing: bool = False) -> Repository:
        destination = destination or self.settings.backup.destination
        if not destination:
            raise BackupsOff(
                "This daemon has no backup destination: set destination in the [backup] table "
                "(CLOUDBURST_BACKUP__DESTINATION), or give one with --to."
            )
        if writing and store_settings(destination, self.settings) is None:
            data_dir = self.settings.data_dir.absolute()
            folder = folder_of(destination)
            if folder.is_relative_to(data_dir) or data_dir.is_relative_to(folder):
                raise InvalidInput(
                    f"The backup destination {folder} and the data folder {data_dir} overlap: "
                    "a backup would back itself up. Choose a folder outside the data folder."
                )
        return Repository(self._open(destination))

    @staticmethod
    def _manifest(repo: Repository, backup_id: str | None) -> Manifest:
        if backup_id is not None:
            return repo.manifest(backup_id)
        manifests = repo.manifests()
        if not manifests:
            raise BackupNotFound(f"There is no finished backup at {repo.name}.")
        return manifests[-1]


def _ref(manifest: Manifest) -> policy.BackupRef:
    return policy.BackupRef(manifest.id, manifest.kind, manifest.base, manifest.created_at)
