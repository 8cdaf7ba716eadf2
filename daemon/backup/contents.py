"""What of a data folder a backup takes, and which names a restore may write.

A backup takes the database (``cloudburst.sqlite3``), the token signing key, the local admin
credential, the stored files (``storage/``: finished files, unfinished uploads and the trash),
the thumbnails, the task logs (``task-logs/``), the data plane's own SQLite files (``data/``),
and the configuration file the daemon runs with (restored as ``config.toml`` in the new
folder). It leaves out what belongs to agents or is only a cache of the cloud: ``agents/``,
``node-cache/``, ``simcloud/``.

Only regular files are taken; symlinks are never followed, so nothing outside the folder can
be pulled into a backup. The daemon's SQLite files are copied with SQLite's online backup API;
their ``-wal``, ``-shm`` and ``-journal`` companions are never copied. Stored files are bytes,
whatever their names.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from common.errors import InvalidInput

DATABASE = "cloudburst.sqlite3"
CONFIG = "config.toml"
"""The name the configuration file gets in a backup, and in a restored folder."""
KEYS = ("auth-signing.key", "local-admin.json")
DATA_TREE = "data"
"""The data plane's folder: its hash cache, catalog and multipart journal (SQLite files)."""
TREES = ("storage", "thumbnails", "task-logs", DATA_TREE)
_SQLITE_SUFFIX = ".sqlite3"
_COMPANIONS = ("-wal", "-shm", "-journal")


class UnsafeBackup(InvalidInput):
    """A backup's manifest names a file a restore must not write (tampered or damaged)."""

    code = "unsafe_backup"


@dataclass(frozen=True)
class Source:
    """One file to back up: its name in the backup, and where it is read now."""

    name: str
    path: Path

    @property
    def is_database(self) -> bool:
        return is_database(self.name)


def is_database(name: str) -> bool:
    """Whether the backup's file ``name`` is one of the daemon's SQLite files (never a file
    someone stored: those are bytes like any other)."""
    return name == DATABASE or (name.startswith(f"{DATA_TREE}/") and name.endswith(_SQLITE_SUFFIX))


def sources(data_dir: Path, config: Path | None) -> list[Source]:
    """The files of ``data_dir`` a backup takes (and the config file), databases first.

    Raises:
        InvalidInput: ``data_dir`` holds no Cloudburst database.
    """
    if not _regular(data_dir / DATABASE):
        raise InvalidInput(
            f"{data_dir} holds no Cloudburst database ({DATABASE}). Give the daemon's data "
            "folder (--data-dir, or the data_dir setting)."
        )
    found = [Source(name, data_dir / name) for name in (DATABASE, *KEYS)]
    for tree in TREES:
        root = data_dir / tree
        if root.is_symlink() or not root.is_dir():
            continue
        for folder, dirs, files in os.walk(root):  # never follows symlinked folders
            for name in sorted(files):
                if tree != DATA_TREE or not name.endswith(_COMPANIONS):
                    path = Path(folder, name)
                    found.append(Source(path.relative_to(data_dir).as_posix(), path))
            dirs.sort()
    found = [s for s in found if _regular(s.path)]
    if config is not None and _regular(config):
        found.append(Source(CONFIG, config))
    return sorted(found, key=lambda s: (not s.is_database, s.name != DATABASE, s.name))


def check_name(name: str) -> str:
    """``name`` when a restore may write it: a plain relative path inside the data folder,
    under one of the names a backup takes.

    Raises:
        UnsafeBackup: anything else (``..``, absolute, a control character, an unknown top).
    """
    parts = PurePosixPath(name).parts
    if (
        not parts
        or name.startswith("/")
        or any(p in (".", "..") for p in parts)
        or any(ord(c) < 32 or c == "\\" for c in name)
        or "/".join(parts) != name
        or (len(parts) == 1 and parts[0] not in (DATABASE, CONFIG, *KEYS))
        or (len(parts) > 1 and parts[0] not in TREES)
    ):
        raise UnsafeBackup(
            f"The backup names the file {name!r}, which no backup of a data folder holds; it "
            "was damaged or tampered with. Restore another backup (cloudburst backup --list)."
        )
    return name


def _regular(path: Path) -> bool:
    """Whether ``path`` is a regular file and not a symlink."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
