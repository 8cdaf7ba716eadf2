"""End-to-end fixtures: a real farm, and Blender scenes made by real Blender (bpy)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.farm import Farm

needs_bpy = pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None,
    reason="bpy is not installed: install the blender extra (pip install -e '.[blender]')",
)


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    farm = Farm(tmp_path)
    try:
        yield farm
    finally:
        farm.stop_all()


def make_scene(path: Path, frames: str, resolution: str = "64x36", samples: int = 2) -> Path:
    """Writes a small animated Cycles scene with real Blender."""
    subprocess.run(
        [sys.executable, "-m", "cloud_agent.demo_scene", str(path), "--frames", frames,
         "--resolution", resolution, "--samples", str(samples)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return path
