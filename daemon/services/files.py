"""The storage API's use cases: resumable uploads, downloads, soft delete, restore and purge.

Layout under ``<data_dir>/storage``: finished files at their own relative paths; unfinished
uploads in ``.cloudburst/uploads/<id>.part`` (never visible at the final path, so an upload cut
off half-way shows nothing until it is completed); deleted files in
``.cloudburst/trash/<file id>`` until restored or purged.

Quotas (``services/quotas.py``): an upload reserves its declared size against its owner's and
its show's quota when it starts, inside the transaction that records it, and every part checks
again that the reservation still fits.

Who may: anyone signed in uploads; an upload is written and completed only by its creator;
a file is downloaded by its owner or a holder of ``files.read_any`` (TDs, admins) and deleted or
restored by its owner or a holder of ``files.delete_any`` (admins).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import xxhash

from common.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from common.models import (
    ChecksumAlgorithm,
    StorageUsage,
    StoredFile,
    UploadComplete,
    UploadCreate,
    UploadInfo,
)
from daemon.auth import Permission, Principal
from daemon.context import Context, to_datetime
from daemon.services.quotas import Quotas
from daemon.services.storage_paths import confine
from daemon.storage import files as store

logger = logging.getLogger(__name__)
CHUNK = 1024 * 1024


class ChecksumMismatch(InvalidInput):
    """The bytes received do not match the checksum the client computed."""

    code = "checksum_mismatch"


def file_checksum(path: Path, algorithm: ChecksumAlgorithm) -> str:
    """The hex digest of the file at ``path``, read in 1 MiB chunks."""
    digest: Any = hashlib.sha256() if algorithm is ChecksumAlgorithm.SHA256 else xxhash.xxh3_128()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    result: str = digest.hexdigest()
    return result


class FileService:
    """Stored files; the bytes live under ``root``, their rows in the database."""

    def __init__(self, context: Context) -> None:
        self.ctx = context
        self.limits = context.settings.storage
        self.quotas = Quotas(context.settings.limits)
        self.root = context.settings.data_dir / "storage"
        self.uploads_dir = self.root / ".cloudburst" / "uploads"
        self.trash_dir = self.root / ".cloudburst" / "trash"

    # --- uploads ------------------------------------------------------------------------------

    def create_upload(self, body: UploadCreate, principal: Principal) -> UploadInfo:
        """Starts an upload; the parts follow with ``write_part``."""
        if body.size > self.limits.max_file_bytes:
            raise TooLarge(
                f"The file is {body.size:,} bytes; this daemon takes files of at most "
                f"{self.limits.max_file_bytes:,} bytes (storage.max_file_bytes). Split it, or "
                "ask an admin to raise the setting."
            )
        confine(self.root, body.path)
        now = self.ctx.now()
        upload_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "id": upload_id, "path": body.path, "size": body.size,
            "algorithm": body.algorithm.value, "owner": principal.name, "created_at": now,
        }  # fmt: skip
        with self.ctx.database.transaction() as db:
            if store.path_taken(db, body.path):
                raise Conflict(f"{body.path!r} already holds a file or an unfinished upload.")
            self.quotas.check(db, principal.name, body.path, body.size)
            store.insert_upload(db, row)
            self.uploads_dir.mkdir(parents=True, exist_ok=True)
            self._part(upload_id).touch()
        logger.info("upload %s of %r (%d bytes) by %s", upload_id, body.path, body.size,
                    principal.name)  # fmt: skip
        return self.upload_info(upload_id, principal)

    def upload_info(self, upload_id: str, principal: Principal) -> UploadInfo:
        """Where the upload stands; ``received`` is the offset to resume from."""
        return _upload_model(self._own_upload(upload_id, principal))

    def write_part(
        self, upload_id: str, offset: int, data: bytes, principal: Principal
    ) -> UploadInfo:
        """Writes ``data`` at ``offset``; a part resent after a cut overwrites the same bytes.

        Raises:
            TooLarge: the part is over ``storage.max_part_bytes``.
            QuotaExceeded: the upload no longer fits its owner's or its show's quota.
            InvalidInput: the part would run past the declared size.
            Conflict: ``offset`` is past what was received (a gap); ``details`` says where
                to resume.
        """
        upload = self._own_upload(upload_id, principal)
        if len(data) > self.limits.max_part_bytes:
            raise TooLarge(
                f"The part is {len(data)} bytes; send parts of at most "
                f"{self.limits.max_part_bytes} bytes (storage.max_part_bytes)."
            )
        if offset + len(data) > upload["size"]:
            raise InvalidInput(
                f"The part ends at byte {offset + len(data)}, past the declared size "
                f"{upload['size']}."
            )
        if offset > upload["received"]:
            raise Conflict(
                f"The part starts at {offset} but only {upload['received']} bytes arrived; "
                f"resume at offset {upload['received']}.",
                details={"received": upload["received"]},
            )
        self.quotas.check(self.ctx.database.db, upload["owner"], upload["path"], 0)
        with self._part(upload_id).open("r+b") as stream:
            stream.seek(offset)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        received = max(upload["received"], offset + len(data))
        with self.ctx.database.transaction() as db:
            if not store.set_received(db, upload_id, upload["received"], received, self.ctx.now()):
                raise Conflict("Another part of this upload arrived at the same time; retry.")
        return self.upload_info(upload_id, principal)

    def complete(self, upload_id: str, body: UploadComplete, principal: Principal) -> StoredFile:
        """Checks the checksum and moves the file to its path; nothing changes on a mismatch."""
        upload = self._own_upload(upload_id, principal)
        if upload["received"] != upload["size"]:
            raise Conflict(
                f"Only {upload['received']} of {upload['size']} bytes arrived; send the rest "
                f"from offset {upload['received']} first.",
                details={"received": upload["received"]},
            )
        algorithm = ChecksumAlgorithm(upload["algorithm"])
        part = self._part(upload_id)
        actual = file_checksum(part, algorithm)
        if actual != body.checksum:
            raise ChecksumMismatch(
                f"The {algorithm} of the bytes received is {actual}, not {body.checksum}; "
                "send the parts again from offset 0, then complete again."
            )
        target = confine(self.root, upload["path"])
        row = {**upload, "checksum": actual, "created_at": self.ctx.now()}
        with self.ctx.database.transaction() as db:
            store.delete_upload(db, upload_id)
            store.insert_file(db, row)
            if target.exists():
                raise Conflict(f"Something not tracked by the daemon is at {upload['path']!r}.")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, target)  # last: a failure above rolls the rows back
        logger.info("stored %r (%s) for %s", upload["path"], upload_id, principal.name)
        return self._file_model(row)

    # --- files --------------------------------------------------------------------------------

    def usage(self, owner: str | None, show: str | None, principal: Principal) -> StorageUsage:
        """Storage use of ``owner`` (the caller when None), and of ``show`` when named; another
        user's needs ``files.read_any``."""
        owner = owner or principal.name
        if owner != principal.name and not principal.may(Permission.FILES_READ_ANY):
            raise Forbidden(
                f"As {principal.role} you may see only your own storage use (another user's "
                f"needs {Permission.FILES_READ_ANY})."
            )
        return self.quotas.usage(self.ctx.database.db, owner, show)

    def download(self, file_id: str, principal: Principal) -> tuple[StoredFile, Path]:
        """A live file and where its bytes are; for its owner or ``files.read_any``."""
        row = self._file(file_id, principal, Permission.FILES_READ_ANY, deleted=False)
        return self._file_model(row), confine(self.root, row["path"])  # no symlink since

    def delete(self, file_id: str, principal: Principal) -> StoredFile:
        """Moves the file to the trash; ``restore`` brings it back until it is purged.

        Raises:
            UnsafePath: the stored path leads out of the root now (a symlink put on the way
                since the upload); nothing is moved.
        """
        row = self._file(file_id, principal, Permission.FILES_DELETE_ANY, deleted=False)
        source = confine(self.root, row["path"])  # checked again: the disk may have changed
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            if not store.mark_deleted(db, file_id, now):
                raise Conflict(f"File {file_id} was deleted at the same time.")
            self.trash_dir.mkdir(parents=True, exist_ok=True)
            os.replace(source, self.trash_dir / file_id)
        logger.info("deleted %r (%s) by %s", row["path"], file_id, principal.name)
        return self._file_model({**row, "deleted_at": now})

    def restore(self, file_id: str, principal: Principal) -> StoredFile:
        """Puts a deleted file back at its path, unless it expired or the path is taken."""
        row = self._file(file_id, principal, Permission.FILES_DELETE_ANY, deleted=True)
        if self.ctx.now() >= row["deleted_at"] + self.limits.trash_ttl_s:
            raise NotFound(f"File {file_id} was deleted too long ago to be restored.")
        target = confine(self.root, row["path"])
        with self.ctx.database.transaction() as db:
            if store.path_taken(db, row["path"]) or target.exists():
                raise Conflict(f"{row['path']!r} holds another file now; delete that first.")
            if not store.mark_restored(db, file_id, row["deleted_at"]):
                raise Conflict(f"File {file_id} changed at the same time; try again.")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.trash_dir / file_id, target)
        logger.info("restored %r (%s) by %s", row["path"], file_id, principal.name)
        return self._file_model({**row, "deleted_at": None})

    def purge(self, now: float | None = None) -> int:
        """Removes files deleted longer than ``trash_ttl_s`` ago and uploads idle longer than
        ``upload_ttl_s``; triggered by APScheduler. Returns how many were removed."""
        now = self.ctx.now() if now is None else now
        removed = 0
        with self.ctx.database.transaction() as db:
            for row in store.deleted_before(db, now - self.limits.trash_ttl_s):
                store.delete_file_row(db, row["id"])
                (self.trash_dir / row["id"]).unlink(missing_ok=True)
                removed += 1
            for row in store.stale_uploads(db, now - self.limits.upload_ttl_s):
                store.delete_upload(db, row["id"])
                self._part(row["id"]).unlink(missing_ok=True)
                removed += 1
        if removed:
            logger.info("purged %d deleted file(s) and idle upload(s)", removed)
        return removed

    # --- helpers ------------------------------------------------------------------------------

    def _part(self, upload_id: str) -> Path:
        return self.uploads_dir / f"{upload_id}.part"

    def _own_upload(self, upload_id: str, principal: Principal) -> dict[str, Any]:
        upload = store.get_upload(self.ctx.database.db, upload_id)
        if upload is None:
            raise NotFound(f"No upload {upload_id} (finished, purged, or never started).")
        if upload["owner"] != principal.name:
            raise Forbidden(
                f"Upload {upload_id} belongs to {upload['owner']}; only they add to it."
            )
        return upload

    def _file(
        self, file_id: str, principal: Principal, permission: Permission, *, deleted: bool
    ) -> dict[str, Any]:
        row = store.get_file(self.ctx.database.db, file_id)
        if row is None or (row["deleted_at"] is not None) != deleted:
            state = "deleted file" if deleted else "file"
            raise NotFound(f"No {state} {file_id}.")
        if row["owner"] != principal.name and not principal.may(permission):
            raise Forbidden(
                f"File {file_id} belongs to {row['owner']}; as {principal.role} you may not "
                f"(it needs {permission})."
            )
        return row

    def _file_model(self, row: dict[str, Any]) -> StoredFile:
        deleted = row.get("deleted_at")
        return StoredFile(
            id=row["id"], path=row["path"], size=row["size"],
            algorithm=ChecksumAlgorithm(row["algorithm"]), checksum=row["checksum"],
            owner=row["owner"], created_at=to_datetime(row["created_at"]),
            deleted_at=None if deleted is None else to_datetime(deleted),
            purge_at=None if deleted is None else to_datetime(deleted + self.limits.trash_ttl_s),
        )  # fmt: skip


def _upload_model(row: dict[str, Any]) -> UploadInfo:
    return UploadInfo(
        id=row["id"], path=row["path"], size=row["size"], received=row["received"],
        algorithm=ChecksumAlgorithm(row["algorithm"]), owner=row["owner"],
        created_at=to_datetime(row["created_at"]), updated_at=to_datetime(row["updated_at"]),
    )  # fmt: skip
