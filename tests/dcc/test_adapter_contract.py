"""One contract for the four ``HostAdapter``s, and the job each DCC submits pinned in a golden file.

Maya, Houdini and Nuke run on their stand-in modules with real scene files loaded; Blender runs
in real ``bpy`` in a process of its own (``contract_probe.py``). Each adapter answers the same
questions (``contract.describe``); every answer must keep the protocol's promises, and the job
``common.jobspec.build_job_spec`` makes of it must equal ``<host>/expected_job.json``
(machine-specific folders replaced by ``<scenes>`` and ``<work>``). Set
``CLOUDBURST_UPDATE_GOLDEN=1`` to rewrite the golden files after a deliberate change.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from common.frames import parse_frames
from common.host import AssetKind
from tests.dcc.conftest import SCENES, install_stubs, scenes
from tests.dcc.contract import describe, normalized

HERE = Path(__file__).resolve().parent
TARGET_KINDS = {"maya": "render_layer", "houdini": "rop", "nuke": "write", "blender": "view_layer"}


def maya(work: Path) -> dict[str, Any]:
    import maya as host

    from dcc.maya.adapter import MayaAdapter

    mrv = scenes("maya") / "mrv"
    host.load_ma(str(mrv / "ma" / "refbase.ma"), env={"MAYAFILEBASE": str(mrv)})
    return describe(MayaAdapter())


def houdini(work: Path) -> dict[str, Any]:
    import hou

    from dcc.houdini.adapter import HoudiniAdapter

    hou.load_hip(str(scenes("houdini") / "cgru" / "scene.hip"), env={})
    return describe(HoudiniAdapter())


def nuke(work: Path) -> dict[str, Any]:
    import nuke as host

    from dcc.nuke.adapter import NukeAdapter

    host.load_nk(str(scenes("nuke") / "cgru" / "scene.nk"))
    return describe(NukeAdapter())


def blender(work: Path) -> dict[str, Any]:
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy is not installed: install the blender extra (pip install -e '.[blender]')")
    if importlib.util.find_spec("dcc.blender.adapter") is None:
        pytest.skip("dcc.blender.adapter (BlenderAdapter) is not there yet")
    out = work / "contract.json"
    env = {k: v for k, v in os.environ.items() if k != "CLOUDBURST_CONFIG"}
    done = subprocess.run(
        [sys.executable, str(HERE / "contract_probe.py"), str(work / "scene"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    described: dict[str, Any] = json.loads(out.read_text())
    return described


HOSTS = {"maya": maya, "houdini": houdini, "nuke": nuke, "blender": blender}


@pytest.fixture(params=list(HOSTS))
def answers(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any], Path]:
    stand_ins = install_stubs()
    name = request.param
    module = {"maya": "maya", "houdini": "hou", "nuke": "nuke"}.get(name)
    if module is not None:
        if not stand_ins[module]:
            pytest.skip(f"the real {module} module is installed; this test drives its stand-in")
        import importlib

        host = importlib.import_module(module)
        reset = getattr(host, "new_scene", None) or host.new_script
        request.addfinalizer(reset)
    return name, HOSTS[name](tmp_path), tmp_path


def test_every_adapter_keeps_the_contract(answers: tuple[str, dict[str, Any], Path]) -> None:
    name, got, _ = answers
    assert got["protocol"] is True and got["dcc"] == name
    info, job = got["info"], got["job"]
    assert info["dcc"] == job["dcc"] == name
    assert got["scene_path"] == info["scene_path"] == job["scene"]
    assert Path(got["scene_path"]).is_file() and got["dirty"] is False
    assert got["main_window"] in ("NoneType", "QWidget", "QMainWindow")
    assert info["frame_start"] <= info["frame_end"] and info["frame_step"] >= 1
    assert info["fps"] > 0 and all(size >= 0 for size in info["resolution"])
    targets = info["targets"]
    assert targets and {t["kind"] for t in targets} == {TARGET_KINDS[name]}
    assert len({t["name"] for t in targets}) == len(targets)
    assert any(t["enabled"] for t in targets)
    paths = [a["path"] for a in got["assets"]]
    assert len(paths) == len(set(paths)), "each dependency once"
    for asset in got["assets"]:
        assert asset["kind"] in set(AssetKind) and asset["source"]
        assert asset["size"] >= 0
        assert all(os.path.isfile(f) for f in asset["files"])
        assert not any(os.path.exists(f) for f in asset["missing_files"])
        if asset["exists"]:
            assert not asset["missing_files"]
        else:
            assert asset["missing_files"] or not os.path.exists(asset["path"])
    assert parse_frames(job["frames"]) and job["output"] and job["owner"] == "artist"


def test_the_job_each_dcc_submits_is_pinned(answers: tuple[str, dict[str, Any], Path]) -> None:
    name, got, work = answers
    replacements = {str(work / "scene"): "<work>", str(SCENES): "<scenes>"}
    job = normalized(got["job"], replacements)
    golden = HERE / name / "expected_job.json"
    if os.environ.get("CLOUDBURST_UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(job, indent=2, sort_keys=True) + "\n")
    assert job == json.loads(golden.read_text())
