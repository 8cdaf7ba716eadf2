"""Files and folders for their owner only: secrets 0600, the folders that hold them 0700.

Used for the daemon's data folder (database, signing key, local admin key), an agent's state
folder (its token) and the CLI's token file. A folder or file that already exists with a wider
mode is narrowed, so an older install is fixed on its next start. On Windows ``chmod`` only sets
the read-only flag; there the folder's inherited access list is what protects.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from common.errors import ConfigError

logger = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Makes folder ``path`` if missing (parents with the usual mode) and narrows it to 0700.

    Raises:
        ConfigError: the folder cannot be made or narrowed (another user owns it).
    """
    try:
        path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        _narrow(path, PRIVATE_DIR)
    except OSError as exc:
        raise ConfigError(
            f"Cannot make the folder {path} private to this user ({exc.strerror or exc}). Run "
            "as the user who owns it, or give it to this user."
        ) from None
    return path


def private_folders(root: Path, folder: Path) -> Path:
    """Makes ``root`` and each folder from it down to ``folder`` that is missing, each 0700
    (``mkdir(parents=True)`` gives the given mode to the last folder only); returns ``folder``.
    """
    root.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    here = root
    for part in folder.relative_to(root).parts:
        here = here / part
        if not here.is_dir():
            here.mkdir(mode=PRIVATE_DIR)
    return folder


def make_private(path: Path) -> bool:
    """Narrows an existing file to 0600; False when there is none (or it is a symlink, which is
    left alone: narrowing would change whatever it points at).

    Raises:
        ConfigError: the file cannot be narrowed (another user owns it).
    """
    if path.is_symlink() or not path.exists():
        return False
    try:
        _narrow(path, PRIVATE_FILE)
    except OSError as exc:
        raise ConfigError(
            f"Cannot make {path} private to this user ({exc.strerror or exc}). Run as the user "
            "who owns it, or give it to this user."
        ) from None
    return True


def create_private(path: Path) -> None:
    """Creates an empty file 0600 unless it exists (then narrows it), so whatever writes it next
    (SQLite, say) keeps that mode."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        make_private(path)


def write_private(path: Path, text: str, *, private_folder: bool = True) -> None:
    """Writes ``text`` to ``path`` atomically, readable by its owner only (0600), in a private
    folder (0700); with ``private_folder=False`` the folder is made if missing and left as it
    is (``/etc/cloudburst`` also holds files a service's user reads)."""
    if private_folder:
        private_dir(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, PRIVATE_FILE)  # an old .tmp left by a crash keeps its mode on O_CREAT
    os.replace(tmp, path)


def _narrow(path: Path, mode: int) -> None:
    current = path.stat().st_mode & 0o777
    if current & ~mode:
        os.chmod(path, mode)
        logger.info("Narrowed %s from %o to %o (owner only)", path, current, mode)
