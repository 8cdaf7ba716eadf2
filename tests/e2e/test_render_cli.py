"""``cloudburst render`` end to end: real daemon, real agents, real Blender frames on disk."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.slow


def cloudburst() -> list[str]:
    """The console script next to this Python, else the same CLI as a module."""
    script = Path(sys.executable).with_name("cloudburst")
    return [str(script)] if script.exists() else [sys.executable, "-m", "common.cli"]


def processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain ``text`` (Linux /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args:
            found.append(args)
    return found


@pytest.mark.timeout(600)
def test_render_demo_scene_writes_three_frames_and_leaves_no_process(tmp_path: Path) -> None:
    if importlib.util.find_spec("bpy") is None:
        pytest.skip(
            "bpy (Blender as a Python module) is not installed: pip install -e '.[blender]'"
        )
    data_dir, out_dir = tmp_path / "data", tmp_path / "out"
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDBURST_")}
    env["CLOUDBURST_CONFIG"] = str(config)
    args = [
        *cloudburst(), "render", "--frames", "1-3", "--agents", "2",
        "--resolution", "64x36", "--samples", "2",
        "--data-dir", str(data_dir), "--output", str(out_dir / "f_####"),
    ]  # fmt: skip

    result = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540, check=False
    )

    logs = "\n".join(
        f"--- {log}\n{log.read_text(errors='replace')[-3000:]}"
        for log in sorted(data_dir.glob("render-runs/*/*.log"))
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{logs}"
    frames = sorted(out_dir.glob("f_*.png"))
    assert [f.name for f in frames] == ["f_0001.png", "f_0002.png", "f_0003.png"]
    for frame in frames:
        with Image.open(frame) as image:
            image.verify()
        with Image.open(frame) as image:
            assert image.format == "PNG" and image.size == (64, 36)
    assert f"Frames: {out_dir}" in result.stdout
    assert processes_mentioning(str(data_dir)) == []
    assert not (tmp_path / "renders").exists()
