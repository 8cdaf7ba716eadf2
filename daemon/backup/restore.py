"""Rebuilding a data folder from a backup.

The folder is built beside the target under a hidden name (``.<name>.restoring-<random>``),
each file written from the backup's objects while its size and hash are checked, every
database through ``PRAGMA integrity_check``; only then is it renamed to the target, in one
step. A restore that fails, or is killed, leaves nothing with the target's name. A target that
exists and holds anything is never touched.

The restored folder is the daemon's own: the folder and its subfolders 0700, every file 0600
(the signing key, the local admin credential and the database among them). With the same
signing key and the same database, access tokens, refresh tokens, API keys and agents' tokens
issued before the backup stay valid.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from pathlib import Path

from common.private_files import private_folders
from daemon.backup.contents import DATABASE, is_database
from daemon.backup.errors import BackupDamaged, RestoreTargetNotEmpty
from daemon.backup.manifest import Manifest
from daemon.backup.repository import Repository
from daemon.storage.snapshot import integrity_problems

logger = logging.getLogger(__name__)


def restore(repo: Repository, manifest: Manifest, target: Path) -> None:
    """Writes the backup ``manifest`` describes into the new folder ``target``.

    Raises:
        RestoreTargetNotEmpty: ``target`` exists and is not an empty folder (nothing changed).
        BackupDamaged: an object is missing or differs, or a database fails its check; nothing
            is left at ``target``.
    """
    _refuse_unless_empty(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.parent / f".{target.name}.restoring-{secrets.token_hex(4)}"
    building.mkdir(mode=0o700)
    try:
        write_files(repo, manifest, building)
        _refuse_unless_empty(target)
        try:
            os.rename(building, target)  # replaces an empty folder; fails on a non-empty one
        except OSError as exc:
            raise RestoreTargetNotEmpty(_not_empty(target)) from exc
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    logger.info("Restored backup %s into %s (%d files)", manifest.id, target,
                len(manifest.entries))  # fmt: skip


def write_files(repo: Repository, manifest: Manifest, folder: Path) -> None:
    """Writes every file of the backup into the empty ``folder``, checked, and checks the
    databases.

    Raises:
        BackupDamaged: see ``restore``.
    """
    if not any(entry.name == DATABASE for entry in manifest.entries):
        raise BackupDamaged(f"Backup {manifest.id} holds no database. Restore another backup.")
    for entry in manifest.entries:
        *parents, leaf = entry.name.split("/")
        path = private_folders(folder, folder.joinpath(*parents)) / leaf
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(path, flags, 0o600), "wb") as stream:
            repo.read_checked(entry.holder, entry.hash, entry.size, stream.write)
            stream.flush()
            os.fsync(stream.fileno())
    for entry in manifest.entries:
        if is_database(entry.name):
            problems = integrity_problems(folder.joinpath(*entry.name.split("/")))
            if problems:
                raise BackupDamaged(
                    f"The database {entry.name} of backup {manifest.id} fails SQLite's integrity "
                    f"check ({'; '.join(problems[:3])}). Restore another backup."
                )


def _refuse_unless_empty(target: Path) -> None:
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        raise RestoreTargetNotEmpty(_not_empty(target))


def _not_empty(target: Path) -> str:
    return (
        f"{target} already exists and is not an empty folder; a restore never writes over "
        "anything (nothing was changed). Restore into a new folder, then point the daemon's "
        "--data-dir at it."
    )
