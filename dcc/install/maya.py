"""Maya: a module file, ``cloudburst.mod``, in the user's ``maya/modules`` folder.

Maya reads every ``.mod`` file in its module folders before it starts Python. Ours names the
absolute ``dcc/maya`` folder of this installation, adds Cloudburst's folder to ``PYTHONPATH``
(where it comes before Maya's ``site-packages``) and ``plug-ins`` to ``MAYA_PLUG_IN_PATH``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from common import __version__
from dcc.install.files import InstallResult, Planned, write_planned


def modules_folder(env: Mapping[str, str], home: Path | None = None) -> Path:
    """The user's Maya modules folder: ``$MAYA_APP_DIR/modules``, else the platform's."""
    if env.get("MAYA_APP_DIR"):
        return Path(env["MAYA_APP_DIR"]) / "modules"
    home = home or Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Preferences" / "Autodesk" / "maya" / "modules"
    if sys.platform == "win32":
        return home / "Documents" / "maya" / "modules"
    return home / "maya" / "modules"


def module_text(root: Path) -> str:
    """The ``.mod`` file: our module, Cloudburst on ``PYTHONPATH``, its plug-in folder."""
    module = (root / "dcc" / "maya").as_posix()
    return (
        "# Cloudburst's Maya module, written by 'cloudburst install-dcc maya'.\n"
        f"+ cloudburst {__version__} {module}\n"
        "PYTHONPATH+:=../..\n"
        "MAYA_PLUG_IN_PATH+:=plug-ins\n"
    )


def install(dest: Path | None, dry_run: bool, env: Mapping[str, str], root: Path) -> InstallResult:
    """Writes ``cloudburst.mod`` into ``dest`` (else the user's Maya modules folder)."""
    result = InstallResult("maya")
    folder = dest or modules_folder(env)
    write_planned(result, Planned(folder / "cloudburst.mod", module_text(root)), dry_run=dry_run)
    result.notes.append(
        "In Maya, load cloudburst_plugin.py once in Windows > Settings/Preferences > Plug-in "
        "Manager and tick 'Auto load'; the Cloudburst menu appears."
    )
    result.notes.append(
        f"Instead of the module file: add {(root / 'dcc' / 'maya').as_posix()} to "
        "MAYA_MODULE_PATH (its cloudburst.mod does the same)."
    )
    return result
