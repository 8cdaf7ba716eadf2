"""A render node with no access to the studio folder renders a real Blender shot (a texture and
a linked library, both by absolute path) from the object store, and its frames come home."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.models import DataState, Placement
from common.states import JobState
from tests.e2e.away import FRAMES, data_env, render_directly, same_pixels, shot_spec
from tests.e2e.conftest import needs_bpy
from tests.e2e.farm import Farm, wait_for
from tests.e2e.studio_scene import make_studio_scene

pytestmark = [pytest.mark.slow, needs_bpy]


def test_a_node_without_the_studio_folder_renders_from_the_object_store(
    farm: Farm, tmp_path: Path, weed: Any
) -> None:
    studio = tmp_path / "mnt" / "studio"
    scene = make_studio_scene(studio)
    reference = tmp_path / "direct"
    render_directly(scene, reference)

    env = data_env(weed, studio)
    farm.env.update(env)
    farm.start_daemon()
    job = farm.client.submit(shot_spec(scene, Placement.CLOUD))
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
        **env, "CLOUDBURST_STUDIO_ACCESS": "false", "CLOUDBURST_AGENT_POOL": "cloud",
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
