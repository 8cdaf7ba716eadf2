"""Blender: an add-on zip, installed and enabled through ``bpy`` when it is importable.

Blender installs add-ons as top-level packages of its user ``scripts/addons`` folder, so the
zip holds a small package, ``cloudburst_submitter``, that puts this installation's folder first
on ``sys.path`` when Blender enables it and hands over to ``dcc.blender``. With ``bpy`` on this
Python (the ``blender`` extra), a separate process installs the zip with
``bpy.ops.preferences.addon_install``, enables it with ``addon_utils.enable`` and saves the
preferences (``BLENDER_USER_CONFIG`` / ``BLENDER_USER_SCRIPTS`` choose the folders, as they do
for Blender); otherwise the zip is written and the steps to install it are printed.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from common.errors import UserFacingError
from dcc.blender import bl_info
from dcc.install.files import InstallResult, Planned, write_planned

logger = logging.getLogger(__name__)

MODULE = "cloudburst_submitter"
ZIP_NAME = f"{MODULE}.zip"
#: Seconds ``bpy`` may take to install and enable the add-on.
BPY_TIMEOUT_S = 120

_SHIM = '''"""Cloudburst Submitter, written by 'cloudburst install-dcc blender'.

Puts Cloudburst's folder first on Blender's Python path and runs its add-on, ``dcc.blender``.
"""

import sys

ROOT = {root!r}
bl_info = {bl_info!r}


def _cloudburst_first():
    if ROOT in sys.path:
        sys.path.remove(ROOT)
    sys.path.insert(0, ROOT)


def register():
    _cloudburst_first()
    import dcc.blender

    dcc.blender.register()


def unregister():
    import dcc.blender

    dcc.blender.unregister()
'''

#: Runs under ``bpy`` in its own process: ``python -c _INSTALL ZIP`` prints a JSON line.
_INSTALL = """
import json, sys
import bpy  # first: it puts Blender's own modules (addon_utils) on the path
import addon_utils
result = bpy.ops.preferences.addon_install(overwrite=True, filepath=sys.argv[1])
module = addon_utils.enable(sys.argv[2], default_set=True, persistent=True)
loaded = addon_utils.check(sys.argv[2])
saved = bpy.ops.wm.save_userpref()
from dcc import common_problem
print("CLOUDBURST-RESULT " + json.dumps({
    "install": sorted(result), "enabled": module is not None, "loaded": list(loaded),
    "saved": sorted(saved), "path": getattr(module, "__file__", ""),
    "scripts": bpy.utils.user_resource("SCRIPTS"), "config": bpy.utils.user_resource("CONFIG"),
    "problem": common_problem(),
}))
"""


def shim_text(root: Path) -> str:
    """The add-on package's ``__init__.py``, pointing at ``root``."""
    return _SHIM.format(root=str(root), bl_info=dict(bl_info))


def addon_zip(root: Path) -> bytes:
    """The add-on zip: ``cloudburst_submitter/__init__.py``, with a fixed date (so the same
    installation gives the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo(f"{MODULE}/__init__.py", date_time=(2020, 1, 1, 0, 0, 0))
        entry.external_attr = 0o644 << 16
        archive.writestr(entry, shim_text(root))
    return buffer.getvalue()


def default_folder() -> Path:
    """Where the zip goes without ``--dest``: ``blender`` in Cloudburst's user data folder."""
    return platformdirs.user_data_path("cloudburst") / "blender"


def bpy_available() -> bool:
    """Whether this Python has Blender's module (``bpy``)."""
    return importlib.util.find_spec("bpy") is not None


def install_with_bpy(zip_path: Path, env: Mapping[str, str]) -> dict[str, object]:
    """Installs, enables and saves the add-on in a ``bpy`` process of its own.

    Raises:
        UserFacingError: Blender refused or failed; the message holds its last output.
    """
    done = subprocess.run(
        [sys.executable, "-c", _INSTALL, str(zip_path), MODULE],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=BPY_TIMEOUT_S,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("CLOUDBURST-RESULT "):
            report: dict[str, object] = json.loads(line.partition(" ")[2])
            if done.returncode == 0 and report["enabled"]:
                return report
    raise UserFacingError(
        f"Blender could not install the add-on {zip_path} (exit code {done.returncode}): "
        f"{(done.stderr or done.stdout).strip()[-800:]} Install it by hand: Edit > "
        "Preferences > Add-ons > Install from Disk."
    )


def install(dest: Path | None, dry_run: bool, env: Mapping[str, str], root: Path) -> InstallResult:
    """Writes the add-on zip into ``dest`` and, with ``bpy`` here, installs and enables it."""
    result = InstallResult("blender")
    zip_path = (dest or default_folder()) / ZIP_NAME
    write_planned(result, Planned(zip_path, addon_zip(root)), dry_run=dry_run)
    by_hand = (
        f"In Blender: Edit > Preferences > Add-ons > Install from Disk, pick {zip_path}, tick "
        "'Cloudburst Submitter'; then Render > Submit to Cloudburst..."
    )
    if dry_run or not bpy_available():
        if not dry_run:
            result.notes.append("bpy is not importable here, so the add-on was not installed.")
        result.notes.append(by_hand)
        return result
    report = install_with_bpy(zip_path, env)
    logger.info("bpy installed the add-on: %s", report)
    result.notes.append(
        f"Installed and enabled the add-on {MODULE} in Blender's user folders: "
        f"{report['path']} (preferences saved in {report['config']})."
    )
    if report.get("problem"):
        result.notes.append(str(report["problem"]))
    return result
