"""What a node reports it has: GPUs from a real ``nvidia-smi`` stand-in on PATH, DCC versions
from install paths and ``blender --version`` (asked once per executable), tags, re-checks."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import psutil
import pytest

from cloud_agent import capabilities
from cloud_agent.capabilities import (
    CapabilityWatch,
    blender_version,
    find_gpus,
    node_tags,
    os_name,
    probe,
    runner_version,
    version_in_path,
)
from cloud_agent.runners.blender import BlenderRunner
from cloud_agent.runners.houdini import HoudiniRunner
from cloud_agent.runners.maya import MayaRunner
from cloud_agent.runners.nuke import NukeRunner
from common.models import Capabilities, Gpu


def program(folder: Path, name: str, body: str) -> Path:
    """An executable Python script ``name`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


TWO_GPUS = """
assert sys.argv[1:] == ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"]
print("NVIDIA GeForce RTX 4090, 24564")
print("NVIDIA RTX A6000, 49140")
"""


def test_gpus_come_from_nvidia_smi_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program(tmp_path / "bin", "nvidia-smi", TWO_GPUS)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert find_gpus() == [
        Gpu(model="NVIDIA GeForce RTX 4090", memory_mb=24564),
        Gpu(model="NVIDIA RTX A6000", memory_mb=49140),
    ]
    found = probe({}, find=find_gpus)
    assert len(found.gpus) == 2


def test_no_nvidia_smi_means_no_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_gpus() == []


@pytest.mark.parametrize(
    "body",
    [
        "print('NVIDIA-SMI has failed because it could not communicate with the driver.')\n"
        "sys.exit(9)",
        "time.sleep(30)",
        "print('not, a number')",
    ],
    ids=["no driver", "hangs", "unreadable"],
)
def test_a_failing_nvidia_smi_means_no_gpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    program(tmp_path / "bin", "nvidia-smi", body)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_gpus(timeout_s=1.0) == []


def test_probe_finds_the_machine(tmp_path: Path) -> None:
    runner = MayaRunner(str(program(tmp_path / "usr/autodesk/maya2024/bin", "Render", "")))
    found = probe({"maya": runner}, find=lambda: [])
    assert found.dccs == ["maya"]
    assert found.dcc_versions == {"maya": "2024"}
    assert found.cores == psutil.cpu_count(logical=True)
    assert found.memory_mb > 0
    assert found.os == os_name() == "linux"


@pytest.mark.parametrize(
    ("dcc", "path", "version"),
    [
        ("maya", "/usr/autodesk/maya2024/bin/Render", "2024"),
        ("maya", "C:/Program Files/Autodesk/Maya2025/bin/Render.exe", "2025"),
        ("houdini", "/opt/hfs20.5.332/bin/hython", "20.5.332"),
        ("houdini", "C:/Program Files/Side Effects Software/Houdini 20.0.625/bin/hython.exe",
         "20.0.625"),
        ("nuke", "/usr/local/Nuke15.1v2/Nuke15.1", "15.1v2"),
        ("maya", "/usr/bin/Render", None),
        ("nuke", "/opt/bin/nuke", None),
        ("blender", "/opt/blender-4.2/blender", None),
    ],
)  # fmt: skip
def test_versions_in_install_paths(dcc: str, path: str, version: str | None) -> None:
    assert version_in_path(dcc, path) == version


def test_a_version_behind_a_link_is_found(tmp_path: Path) -> None:
    real = program(tmp_path / "opt/hfs20.5.332/bin", "hython", "")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "hython").symlink_to(real)
    assert runner_version(HoudiniRunner(str(tmp_path / "bin" / "hython"))) == "20.5.332"
    assert runner_version(NukeRunner(str(tmp_path / "bin" / "hython"))) is None


def test_blender_is_asked_its_version_once_per_executable(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    blender = program(
        tmp_path,
        "blender",
        f"open({str(calls)!r}, 'a').write('x')\n"
        "print('Blender 4.2.3 LTS')\nprint('\\tbuild date: 2024-10-14')",
    )
    runner = BlenderRunner([str(blender)])
    assert runner_version(runner) == "4.2.3"
    assert runner_version(runner) == "4.2.3"
    assert calls.read_text() == "x", "the second registration must not start Blender"
    blender.write_text(blender.read_text().replace("4.2.3", "4.5.0") + "\n")
    assert runner_version(runner) == "4.5.0", "a new Blender at the same path is asked again"


def test_a_blender_that_prints_no_version_is_left_out(tmp_path: Path) -> None:
    blender = program(tmp_path, "blender", "print('Segmentation fault'); sys.exit(139)")
    assert blender_version([str(blender)]) is None
    found = probe({"blender": BlenderRunner([str(blender)])}, find=lambda: [])
    assert found.dccs == ["blender"] and found.dcc_versions == {}


def test_the_bpy_wheel_tells_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capabilities.importlib.metadata, "version", lambda name: "4.2.0")
    assert blender_version([sys.executable, "-m", "cloud_agent.blender_compat"]) == "4.2.0"
    assert blender_version(["/venv/bin/cloudburst-blender"]) == "4.2.0"


def test_node_tags_keep_those_a_job_can_name() -> None:
    assert node_tags(["nvme", "gpu", "nvme", "has space", "", "-x", "lighting.v2"]) == [
        "nvme",
        "gpu",
        "lighting.v2",
    ]


def test_the_watch_rechecks_on_time_and_holds_news_until_sent() -> None:
    now = [0.0]
    node = [Capabilities(cores=8)]
    checks: list[int] = []

    def check() -> Capabilities:
        checks.append(1)
        return node[0]

    watch = CapabilityWatch(Capabilities(cores=8), check, every_s=60, clock=lambda: now[0])
    assert watch.changed() is None and checks == []
    now[0] = 61
    assert watch.changed() is None and len(checks) == 1
    node[0] = Capabilities(cores=16)
    now[0] = 90
    assert watch.changed() is None, "not due yet"
    now[0] = 122
    assert watch.changed() == Capabilities(cores=16)
    assert watch.changed() == Capabilities(cores=16), "held until sent, without a new check"
    assert len(checks) == 2
    watch.sent(Capabilities(cores=16))
    assert watch.changed() is None
