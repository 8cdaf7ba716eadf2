"""``cloudburst install-dcc``: each host's own install file, pointing at this installation,
written into temporary folders (never the real home); running it again changes nothing; a
user's Nuke ``init.py`` is kept and backed up; Blender's add-on installs and enables in real
``bpy`` (in processes of their own, with temporary Blender user folders)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import common
from common.cli.main import cli
from dcc.install import blender as blender_install
from dcc.install import houdini, maya, nuke

ROOT = Path(common.__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own, in case a default folder is used by mistake."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("MAYA_APP_DIR", "HOUDINI_USER_PREF_DIR", "BLENDER_USER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BLENDER_USER_SCRIPTS", str(tmp_path / "blender-scripts"))
    monkeypatch.setenv("BLENDER_USER_CONFIG", str(tmp_path / "blender-config"))
    return home


def install(*args: str) -> Result:
    return CliRunner().invoke(cli, ["install-dcc", *args])


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("host", ["maya", "houdini", "nuke", "blender"])
def test_running_it_again_changes_nothing(
    host: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blender_install, "bpy_available", lambda: False)
    dest = tmp_path / "dest"
    first = install(host, "--dest", str(dest))
    assert first.exit_code == 0, first.output
    assert "Wrote" in first.output
    before = snapshot(dest)
    again = install(host, "--dest", str(dest))
    assert again.exit_code == 0, again.output
    assert "Already installed" in again.output and "Wrote" not in again.output
    assert snapshot(dest) == before
    assert len(before) == 1  # one file, no backup


def test_maya_module_names_this_installation(tmp_path: Path) -> None:
    assert install("maya", "--dest", str(tmp_path)).exit_code == 0
    lines = (tmp_path / "cloudburst.mod").read_text().splitlines()
    assert f"+ cloudburst {common.__version__} {(ROOT / 'dcc' / 'maya').as_posix()}" in lines
    assert "PYTHONPATH+:=../.." in lines and "MAYA_PLUG_IN_PATH+:=plug-ins" in lines
    assert (ROOT / "dcc" / "maya" / "plug-ins" / "cloudburst_plugin.py").is_file()


def test_maya_default_folder_follows_maya_app_dir(tmp_path: Path, fake_home: Path) -> None:
    assert maya.modules_folder({"MAYA_APP_DIR": str(tmp_path / "m")}) == tmp_path / "m" / "modules"
    if sys.platform.startswith("linux"):
        assert maya.modules_folder({}) == fake_home / "maya" / "modules"


def test_houdini_package_prepends_our_folder(tmp_path: Path) -> None:
    assert install("houdini", "--dest", str(tmp_path)).exit_code == 0
    package = json.loads((tmp_path / "cloudburst.json").read_text())
    assert package["hpath"] == (ROOT / "dcc" / "houdini").as_posix()
    assert {"PYTHONPATH": {"value": ROOT.as_posix(), "method": "prepend"}} in package["env"]
    assert (ROOT / "dcc" / "houdini" / "toolbar" / "cloudburst.shelf").is_file()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux user folders")
def test_houdini_installs_into_each_user_folder(fake_home: Path) -> None:
    for version in ("20.0", "20.5"):
        (fake_home / f"houdini{version}").mkdir()
    (fake_home / "houdini-notes").mkdir()
    result = install("houdini")
    assert result.exit_code == 0, result.output
    assert sorted(p.parent.parent.name for p in fake_home.glob("*/packages/cloudburst.json")) == [
        "houdini20.0", "houdini20.5",
    ]  # fmt: skip


def test_houdini_without_a_user_folder_says_what_to_do(fake_home: Path) -> None:
    result = install("houdini")
    assert result.exit_code == 1
    assert "No Houdini user folder" in result.output and "--dest" in result.output
    assert houdini.user_folders({}, fake_home) == []


NUKE_LINE = f"nuke.pluginAddPath({(ROOT / 'dcc' / 'nuke').as_posix()!r})"


def test_nuke_keeps_the_users_init_py_and_backs_it_up(tmp_path: Path) -> None:
    folder = tmp_path / ".nuke"
    folder.mkdir()
    init = folder / "init.py"
    original = 'import nuke\nnuke.pluginAddPath("/studio/tools")'  # no final newline
    init.write_text(original)
    assert install("nuke", "--dest", str(folder)).exit_code == 0
    lines = init.read_text().splitlines()
    assert lines[:2] == ["import nuke", 'nuke.pluginAddPath("/studio/tools")']
    assert lines.count(NUKE_LINE) == 1 and lines.count("import nuke") == 1
    assert (folder / "init.py.cloudburst-backup").read_text() == original
    install("nuke", "--dest", str(folder))
    install("nuke", "--dest", str(folder))
    assert init.read_text().splitlines() == lines
    assert sorted(p.name for p in folder.iterdir()) == ["init.py", "init.py.cloudburst-backup"]


def test_nuke_replaces_the_line_of_an_older_installation(tmp_path: Path) -> None:
    folder = tmp_path / ".nuke"
    folder.mkdir()
    init = folder / "init.py"
    init.write_text(f"import nuke\n{nuke.MARKER}\nnuke.pluginAddPath('/old/cloudburst/dcc/nuke')\n")
    (folder / "init.py.cloudburst-backup").write_text("an earlier backup")
    assert install("nuke", "--dest", str(folder)).exit_code == 0
    assert init.read_text() == f"import nuke\n{nuke.MARKER}\n{NUKE_LINE}\n"
    assert (folder / "init.py.cloudburst-backup").read_text() == "an earlier backup"
    assert "/old/cloudburst" in (folder / "init.py.cloudburst-backup.1").read_text()


def test_nuke_writes_a_new_init_py(tmp_path: Path) -> None:
    assert install("nuke", "--dest", str(tmp_path / ".nuke")).exit_code == 0
    text = (tmp_path / ".nuke" / "init.py").read_text()
    assert text == f"{nuke.MARKER}\nimport nuke\n{NUKE_LINE}\n"
    compile(text, "init.py", "exec")


@pytest.mark.parametrize("host", ["maya", "houdini", "nuke", "blender"])
def test_print_shows_the_files_and_writes_nothing(host: str, tmp_path: Path) -> None:
    result = install(host, "--dest", str(tmp_path / "dest"), "--print")
    assert result.exit_code == 0, result.output
    assert f"# {tmp_path / 'dest'}" in result.output
    assert not (tmp_path / "dest").exists()
    assert not (tmp_path / "blender-scripts").exists()


def test_blender_without_bpy_writes_the_zip_and_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blender_install, "bpy_available", lambda: False)
    result = install("blender", "--dest", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Install from Disk" in " ".join(result.output.split())
    with zipfile.ZipFile(tmp_path / "cloudburst_submitter.zip") as archive:
        assert archive.namelist() == ["cloudburst_submitter/__init__.py"]
        shim = archive.read("cloudburst_submitter/__init__.py").decode()
    assert f"ROOT = {str(ROOT)!r}" in shim and "'name': 'Cloudburst Submitter'" in shim
    compile(shim, "__init__.py", "exec")


#: Runs in a fresh ``bpy`` process: loads the saved preferences and reports the add-on.
CHECK = """
import json, sys
import bpy
import addon_utils
bpy.ops.wm.read_userpref()
import common
print("CHECK " + json.dumps({
    "enabled": [a.module for a in bpy.context.preferences.addons],
    "loaded": list(addon_utils.check("cloudburst_submitter")),
    "operator": hasattr(bpy.types, "RENDER_OT_cloudburst_submit"),
    "common": common.__file__, "first": sys.path[0],
}))
"""


@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy is not installed")
def test_blender_installs_and_enables_the_addon_in_bpy(tmp_path: Path) -> None:
    scripts, config = tmp_path / "blender-scripts", tmp_path / "blender-config"
    result = install("blender", "--dest", str(tmp_path / "zip"))
    assert result.exit_code == 0, result.output
    assert "Installed and enabled the add-on cloudburst_submitter" in result.output
    addon = scripts / "addons" / "cloudburst_submitter" / "__init__.py"
    assert addon.is_file() and (config / "userpref.blend").is_file()
    again = install("blender", "--dest", str(tmp_path / "zip"))
    assert again.exit_code == 0 and "Already installed" in again.output
    assert [p.name for p in (scripts / "addons").iterdir()] == ["cloudburst_submitter"]

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("CHECK "))
    check = json.loads(line.partition(" ")[2])
    assert "cloudburst_submitter" in check["enabled"]
    assert check["loaded"] == [True, True] and check["operator"] is True
    assert check["first"] == str(ROOT)
    assert Path(check["common"]).resolve() == ROOT / "common" / "__init__.py"
