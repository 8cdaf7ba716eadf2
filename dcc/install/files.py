"""The files an installer writes: each planned with its whole content, written only when it
changes, a user's own file backed up first. Shared by the host installers beside it."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import common

logger = logging.getLogger(__name__)


def install_root() -> Path:
    """The folder that holds Cloudburst's ``common`` and ``dcc`` packages."""
    return Path(common.__file__).resolve().parent.parent


@dataclass(frozen=True)
class Planned:
    """A file an installer wants on disk, with its whole content."""

    path: Path
    content: str | bytes
    user_file: bool = False
    """Whether the file belongs to the user (back it up before changing it)."""


@dataclass
class InstallResult:
    """What an installer did (or, with ``dry_run``, would do)."""

    host: str
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Sentences for the user: what happens next, how to do it by hand."""


def backup_path(path: Path) -> Path:
    """A free name beside ``path`` for its backup: ``init.py.cloudburst-backup[.N]``."""
    candidate = path.with_name(f"{path.name}.cloudburst-backup")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.cloudburst-backup.{number}")
        number += 1
    return candidate


def write_planned(result: InstallResult, planned: Planned, *, dry_run: bool) -> None:
    """Writes one planned file unless it already holds that content; backs up a user's file."""
    result.planned.append(planned)
    data = planned.content.encode() if isinstance(planned.content, str) else planned.content
    path = planned.path
    if path.is_file() and path.read_bytes() == data:
        result.unchanged.append(path)
        return
    if dry_run:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and planned.user_file:
        backup = backup_path(path)
        shutil.copy2(path, backup)
        result.backups.append(backup)
        logger.info("backed up %s to %s", path, backup)
    temporary = path.with_name(f".{path.name}.cloudburst-tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    result.written.append(path)
    logger.info("wrote %s", path)
