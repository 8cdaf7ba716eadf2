"""A render node with no access to the studio folder renders a real Blender shot (a texture and
a linked library, both by absolute path) from the object store, and its frames come home."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from common.models import DataState, JobSpec, Placement
from common.states import JobState
from tests.e2e.conftest import needs_bpy
from tests.e2e.farm import Farm, wait_for
from tests.e2e.studio_scene import make_studio_scene

pytestmark = [pytest.mark.slow, needs_bpy]

FRAMES = (1, 3)


def render_directly(scene: Path, out: Path) -> None:
    """The reference: the same frames rendered by Blender straight from the studio folder."""
    blender = Path(sys.executable).with_name("cloudburst-blender")
    subprocess.run(
        [str(blender), "-b", str(scene), "-o", str(out / "sh010_####"), "-F", "PNG",
         "-s", str(FRAMES[0]), "-e", str(FRAMES[1]), "-a"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def same_pixels(a: Path, b: Path) -> bool:
    with Image.open(a) as left, Image.open(b) as right:
        return ImageChops.difference(left.convert("RGBA"), right.convert("RGBA")).getbbox() is None


def test_a_node_without_the_studio_folder_renders_from_the_object_store(
    farm: Farm, tmp_path: Path, weed: Any
) -> None:
    studio = tmp_path / "mnt" / "studio"
    scene = make_studio_scene(studio)
    reference = tmp_path / "direct"
    render_directly(scene, reference)

    store = weed.store_env(f"e2e-{uuid.uuid4().hex[:8]}/")
    rules = json.dumps([{"name": "studio", "linux": str(studio), "windows": "S:\\"}])
    farm.env.update(
        {**store, "CLOUDBURST_PATH_RULES": rules, "CLOUDBURST_STAGING__INTERVAL_S": "0.5"}
    )
    farm.start_daemon()
    job = farm.client.submit(
        JobSpec(
            name="sh010",
            owner="test",
            project="show",
            scene=str(scene),
            frames=f"{FRAMES[0]}-{FRAMES[1]}",
            chunk_size=2,
            output="//render/sh010_####",
            output_format="PNG",
            placement=Placement.CLOUD,
        )
    )
    data = wait_for(
        lambda: (d := farm.client.job_data(job.id)).state is DataState.STAGED and d, 120,
        "the job's files to be staged", every=0.5,
    )  # fmt: skip
    assert data.files == 3  # the shot, its texture, its library

    # From here nothing may come from the studio folder: move the shot's files away.
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    for part in ("tex", "lib"):
        (studio / "show" / part).rename(hidden / part)
    scene.rename(hidden / scene.name)

    farm.start_agent("oci-1", {
        **store, "CLOUDBURST_STUDIO_ACCESS": "false", "CLOUDBURST_AGENT_POOL": "cloud",
        "CLOUDBURST_NODE_CACHE_DIR": str(tmp_path / "node-cache"),
    })  # fmt: skip
    done = farm.wait_job(job.id, timeout=300)
    assert done.state is JobState.SUCCEEDED, farm.logs()

    home = studio / "show" / "shots" / "render"
    names = [f"sh010_{f:04d}.png" for f in range(FRAMES[0], FRAMES[1] + 1)]
    assert sorted(p.name for p in home.iterdir()) == names
    for name in names:
        assert same_pixels(home / name, reference / name), name
    data = farm.client.job_data(job.id)
    assert (data.frames_home, data.frames_away) == (len(names), 0)
    audit = farm.client.audit(job_id=job.id)
    assert sorted(Path(r.path).name for r in audit.items) == [
        "checker.png", "props.blend", "sh010.blend",
    ]  # fmt: skip
    assert all(r.transferred == r.size for r in audit.items)
    for task in farm.client.tasks(job.id):  # Blender was repointed to the workspace's files
        log = farm.client.task_log(job.id, task.id).text
        assert "[cloudburst] remapped 2 path(s)" in log, log[-3000:]
