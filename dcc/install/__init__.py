"""Installs the DCC plug-ins the host's own way (``cloudburst install-dcc``).

Each host gets the files it reads at start-up, pointing at this installation of Cloudburst (the
folder that holds ``common`` and ``dcc``), so that folder comes first on the host's Python path:

- Maya: ``cloudburst.mod`` in the user's ``maya/modules`` folder (``maya.py``);
- Houdini: ``packages/cloudburst.json`` in each ``houdiniX.Y`` user folder (``houdini.py``);
- Nuke: a ``nuke.pluginAddPath`` line in ``~/.nuke/init.py``, added once (``nuke.py``);
- Blender: an add-on zip, installed and enabled through ``bpy`` when it can be (``blender.py``).

Writing is idempotent: a file already as wanted is left alone; a user's file that must change is
backed up first and only our lines are added or replaced.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import common

logger = logging.getLogger(__name__)

__all__ = ["HOSTS", "InstallResult", "Planned", "install", "install_root", "write_planned"]


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


Installer = Callable[[Path | None, bool, Mapping[str, str], Path], InstallResult]


def _installers() -> dict[str, Installer]:
    from dcc.install import blender, houdini, maya, nuke

    return {
        "maya": maya.install,
        "houdini": houdini.install,
        "nuke": nuke.install,
        "blender": blender.install,
    }


HOSTS = ("maya", "houdini", "nuke", "blender")


def install(
    host: str,
    dest: Path | None = None,
    *,
    dry_run: bool = False,
    env: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> InstallResult:
    """Installs the plug-in of ``host`` for the current user.

    Args:
        host: ``maya``, ``houdini``, ``nuke`` or ``blender``.
        dest: the folder to write into instead of the host's user folder (for Blender: where
            the add-on zip goes).
        dry_run: plan only; write nothing and run nothing.
        env: the environment the host's user folders are found with (``os.environ``).
        root: the Cloudburst folder to point at (``install_root()``).

    Raises:
        UserFacingError: the host's user folder cannot be found, or the host refused the
            installation; the message says what to do.
    """
    if host not in HOSTS:
        raise ValueError(f"unknown host {host!r}")
    installer = _installers()[host]
    return installer(dest, dry_run, os.environ if env is None else env, root or install_root())
