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

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from dcc.install import blender, houdini, maya, nuke
from dcc.install.files import InstallResult, Planned, install_root, write_planned

__all__ = ["HOSTS", "InstallResult", "Planned", "install", "install_root", "write_planned"]

Installer = Callable[[Path | None, bool, Mapping[str, str], Path], InstallResult]


_INSTALLERS: dict[str, Installer] = {
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
    installer = _INSTALLERS[host]
    return installer(dest, dry_run, os.environ if env is None else env, root or install_root())
