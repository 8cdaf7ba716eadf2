"""The backups at one destination: listing, reading, writing manifests, and deleting.

Deleting is crash-safe: a ``runs/<id>.json`` marker saying ``prune`` is written first, then the
manifest goes (the backup stops being listed), then its objects, then the marker. A backup
being written has a marker saying ``backup`` until its manifest is in place. ``sweep`` finishes
what a crash left: prunes cut short at once, backups never finished once a day has passed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

from pydantic import ValidationError

from common.data.errors import BlobMissing
from common.data.hashing import new_hasher
from common.data.store import ObjectStore
from daemon.backup.contents import UnsafeBackup
from daemon.backup.errors import BackupDamaged, BackupNotFound
from daemon.backup.manifest import (
    MANIFESTS,
    OBJECTS,
    RUNS,
    Manifest,
    is_id,
    manifest_key,
    object_key,
    run_key,
)

logger = logging.getLogger(__name__)

#: A backup unfinished this long after it started was cut short (its process died).
STALE_RUN_S = 86400.0


class Repository:
    """Backups in one object store (a folder, a bucket and prefix)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @property
    def name(self) -> str:
        return self.store.name

    # --- reading -------------------------------------------------------------------------

    def manifests(self) -> list[Manifest]:
        """Every finished backup, oldest first; a damaged manifest is logged and left out."""
        found: list[Manifest] = []
        for info in self.store.list_objects(MANIFESTS):
            backup_id = info.key[len(MANIFESTS) :].removesuffix(".json")
            if not is_id(backup_id):
                continue
            try:
                found.append(self.manifest(backup_id))
            except (BackupDamaged, UnsafeBackup) as exc:
                logger.warning("Backup %s at %s left out: %s", backup_id, self.name, exc.message)
        return sorted(found, key=lambda m: m.id)

    def manifest(self, backup_id: str) -> Manifest:
        """The manifest of ``backup_id``.

        Raises:
            BackupNotFound: no finished backup of that id.
            BackupDamaged: the manifest cannot be read or does not hold together.
        """
        if not is_id(backup_id):
            raise BackupNotFound(
                f"{backup_id!r} is not a backup id (such as 20250601T020000Z-full-3fa2); "
                "list them with cloudburst backup --list."
            )
        try:
            text = b"".join(self.store.get(manifest_key(backup_id)))
        except BlobMissing:
            raise BackupNotFound(
                f"There is no backup {backup_id} at {self.name}; list them with "
                "cloudburst backup --list."
            ) from None
        try:
            manifest = Manifest.model_validate_json(text)
        except (ValidationError, ValueError) as exc:
            raise BackupDamaged(
                f"The manifest of backup {backup_id} at {self.name} is damaged ({exc}). "
                "Restore another backup."
            ) from None
        if manifest.id != backup_id:
            raise BackupDamaged(
                f"The manifest stored as backup {backup_id} describes {manifest.id}; it was "
                "moved or tampered with. Restore another backup."
            )
        return manifest

    def read(self, holder: str, digest: str) -> Iterator[bytes]:
        """The bytes stored under ``digest`` by backup ``holder`` (unchecked: the caller
        hashes them)."""
        return self.store.get(object_key(holder, digest))

    def read_checked(
        self, holder: str, digest: str, size: int, write: Callable[[bytes], object] | None = None
    ) -> None:
        """Reads the object ``digest`` of backup ``holder`` and checks its size and hash,
        handing each chunk to ``write`` on the way (the caller discards what it wrote when this
        raises).

        Raises:
            BackupDamaged: the object is missing, or its bytes are not the ones written.
        """
        hasher = new_hasher()
        count = 0
        try:
            for chunk in self.read(holder, digest):
                hasher.update(chunk)
                count += len(chunk)
                if write is not None:
                    write(chunk)
        except BlobMissing:
            raise BackupDamaged(
                f"Backup {holder} at {self.name} lacks the object {digest}; it was deleted or "
                "never written. Restore another backup, and take a full one (--full)."
            ) from None
        if count != size or hasher.hexdigest() != digest:
            raise BackupDamaged(
                f"The object {digest} of backup {holder} at {self.name} does not hold the bytes "
                "written (size or hash differ). Restore another backup, and take a full one."
            )

    def present(self, holder: str) -> dict[str, int]:
        """The hashes backup ``holder`` has objects for, with their sizes."""
        prefix = f"{OBJECTS}{holder}/"
        return {
            info.key[len(prefix) :].replace("/", "", 1): info.size
            for info in self.store.list_objects(prefix)
        }

    # --- writing -------------------------------------------------------------------------

    def begin(self, backup_id: str, action: str, now: float) -> None:
        """Marks ``backup_id`` as being written (``backup``) or deleted (``prune``)."""
        self.store.put(run_key(backup_id), json.dumps({"action": action, "at": now}).encode())

    def finish(self, manifest: Manifest) -> None:
        """Publishes a backup: its manifest, then its marker goes."""
        self.store.put(manifest_key(manifest.id), manifest.model_dump_json(indent=1).encode())
        self.store.delete([run_key(manifest.id)])

    def put(self, holder: str, digest: str, data: bytes) -> None:
        self.store.put(object_key(holder, digest), data)

    def delete(self, backup_id: str, now: float) -> None:
        """Deletes a backup: listed no more at once, its objects after."""
        self.begin(backup_id, "prune", now)
        self._remove(backup_id)

    def sweep(self, now: float) -> list[str]:
        """Removes what crashed backups and prunes left behind; returns their ids."""
        swept: list[str] = []
        for info in list(self.store.list_objects(RUNS)):
            backup_id = info.key[len(RUNS) :].removesuffix(".json")
            try:
                marker = json.loads(b"".join(self.store.get(info.key)))
                action, at = str(marker["action"]), float(marker["at"])
            except (BlobMissing, ValueError, KeyError, TypeError):
                continue
            if not is_id(backup_id):
                continue
            if action == "backup" and self.store.exists_many([manifest_key(backup_id)]):
                self.store.delete([info.key])  # finished; only its marker was left
            elif action == "prune" or (action == "backup" and now - at > STALE_RUN_S):
                self._remove(backup_id)
                swept.append(backup_id)
        return swept

    def _remove(self, backup_id: str) -> None:
        self.store.delete([manifest_key(backup_id)])
        keys = [info.key for info in self.store.list_objects(f"{OBJECTS}{backup_id}/")]
        self.store.delete(keys)
        self.store.delete([run_key(backup_id)])
