"""Houdini: a package, ``packages/cloudburst.json``, in each ``houdiniX.Y`` user folder.

Houdini reads the packages of its user folder at start-up. Ours prepends this installation's
``dcc/houdini`` folder to ``HOUDINI_PATH`` (``hpath``: where Houdini finds the shelf) and
Cloudburst's folder to ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from common.errors import UserFacingError
from dcc.install.files import InstallResult, Planned, write_planned

_VERSION_FOLDER = re.compile(r"^houdini(\d+\.\d+)$")


def user_folders(env: Mapping[str, str], home: Path | None = None) -> list[Path]:
    """Houdini's user folders: ``$HOUDINI_USER_PREF_DIR``, else each ``houdiniX.Y`` found."""
    chosen = env.get("HOUDINI_USER_PREF_DIR", "")
    if chosen and "__HVER__" not in chosen:
        return [Path(chosen)]
    home = home or Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Preferences" / "houdini"
        if not base.is_dir():
            return []
        return sorted(p for p in base.iterdir() if re.fullmatch(r"\d+\.\d+", p.name))
    base = home / "Documents" if sys.platform == "win32" else home
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and _VERSION_FOLDER.match(p.name))


def package_text(root: Path) -> str:
    """The package JSON: our folder on ``HOUDINI_PATH`` and Cloudburst first on ``PYTHONPATH``."""
    package = {
        "load_package_once": True,
        "enable": "houdini_version >= '19.5'",
        "hpath": (root / "dcc" / "houdini").as_posix(),
        "env": [
            {"CLOUDBURST_HOUDINI": (root / "dcc" / "houdini").as_posix()},
            {"PYTHONPATH": {"value": root.as_posix(), "method": "prepend"}},
        ],
    }
    return json.dumps(package, indent=4) + "\n"


def install(dest: Path | None, dry_run: bool, env: Mapping[str, str], root: Path) -> InstallResult:
    """Writes ``cloudburst.json`` into ``dest`` (else each Houdini user folder's ``packages``).

    Raises:
        UserFacingError: no ``dest`` and no Houdini user folder found.
    """
    result = InstallResult("houdini")
    folders = [dest] if dest else [f / "packages" for f in user_folders(env)]
    if not folders:
        raise UserFacingError(
            "No Houdini user folder (houdiniX.Y) found. Start Houdini once so it creates it, "
            "or name the packages folder: cloudburst install-dcc houdini --dest "
            "~/houdini20.5/packages."
        )
    for folder in folders:
        planned = Planned(folder / "cloudburst.json", package_text(root))
        write_planned(result, planned, dry_run=dry_run)
    result.notes.append(
        "Restart Houdini: the shelf 'Cloudburst' holds Submit to Cloudburst. Instead of the "
        f"package file: set HOUDINI_PACKAGE_DIR to {(root / 'dcc' / 'houdini').as_posix()}."
    )
    return result
