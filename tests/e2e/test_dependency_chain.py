"""Two jobs in a chain on a real farm: the second is a Blender scene that reads the first job's
frame N as an image, and renders frame N only once that frame is on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from common.models import JobDependency, Task
from common.states import JobState
from tests.e2e.conftest import make_scene, needs_bpy
from tests.e2e.farm import Farm
from tests.e2e.test_farm import assert_frames, spec

pytestmark = [pytest.mark.slow, needs_bpy]
FRAMES = range(1, 4)


def make_chain_scene(path: Path, first_frame: Path) -> Path:
    """A scene showing the frames of ``first_frame``'s sequence, written by real Blender."""
    subprocess.run(
        [sys.executable, "-m", "tests.e2e.chain_scene", str(path), str(first_frame),
         str(FRAMES[0]), str(FRAMES[-1])],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return path


def by_frame(tasks: list[Task]) -> dict[int, Task]:
    return {frame: task for task in tasks for frame in task.frames}


def test_a_chain_renders_frame_n_after_the_frame_it_reads(farm: Farm, tmp_path: Path) -> None:
    renders, comps = tmp_path / "render", tmp_path / "comp"
    scene = make_scene(tmp_path / "render.blend", "1-3")
    chain = make_chain_scene(tmp_path / "comp.blend", renders / "f_0001.png")
    farm.start_daemon()
    farm.start_agent("a")
    farm.start_agent("b")
    render = farm.client.submit(spec(scene, renders, "1-3", chunk=1, name="render"))
    comp = farm.client.submit(
        spec(chain, comps, "1-3", chunk=1, name="comp",
             depends_on=[JobDependency(job=render.id, frames="same")])
    )  # fmt: skip
    assert comp.state is JobState.QUEUED  # frame by frame: its frames wait, not the job
    assert farm.wait_job(render.id).state is JobState.SUCCEEDED, farm.logs()
    assert farm.wait_job(comp.id).state is JobState.SUCCEEDED, farm.logs()

    upstream, downstream = (
        by_frame(farm.client.tasks(render.id)),
        by_frame(farm.client.tasks(comp.id)),
    )
    for frame in FRAMES:
        finished, started = upstream[frame].finished_at, downstream[frame].started_at
        assert finished is not None and started is not None
        assert started >= finished, f"comp frame {frame} started before render's was done"
    assert_frames(comps, FRAMES, (64, 36))
    for frame in FRAMES:
        with (
            Image.open(renders / f"f_{frame:04d}.png") as read,
            Image.open(comps / f"f_{frame:04d}.png") as made,
        ):
            source, result = read.convert("RGB"), made.convert("RGB")
        assert ImageChops.difference(source, result).getbbox() is not None  # tinted: not a copy
        # the tint keeps red: comp's frame N shows render's frame N, not a missing image
        red = ImageChops.difference(source.getchannel("R"), result.getchannel("R"))
        assert red.getextrema()[1] <= 40, f"comp frame {frame} does not show render frame {frame}"
