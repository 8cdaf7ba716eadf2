"""The whole farm on one machine: real daemon, real agent processes, real Blender renders."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest
from PIL import Image

from common.models import JobSpec
from common.states import JobState, TaskState
from tests.e2e.conftest import make_scene, needs_bpy
from tests.e2e.farm import Farm, wait_for

pytestmark = [pytest.mark.slow, needs_bpy]


def spec(scene: Path, out: Path, frames: str, chunk: int, **extra: object) -> JobSpec:
    values: dict[str, object] = {
        "name": "e2e", "owner": "test", "project": "e2e", "scene": str(scene),
        "frames": frames, "chunk_size": chunk, "output": str(out / "f_####"),
        "output_format": "PNG",
    }  # fmt: skip
    values.update(extra)
    return JobSpec.model_validate(values)


def assert_frames(out: Path, frames: range, size: tuple[int, int]) -> None:
    """Every frame is a complete PNG of the size asked for, and nothing else is in the folder."""
    expected = {f"f_{frame:04d}.png" for frame in frames}
    assert {p.name for p in out.iterdir() if p.is_file()} == expected
    for name in expected:
        with Image.open(out / name) as image:
            image.load()  # a truncated file fails here
            assert image.size == size
            assert image.format == "PNG"


def blender_processes(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if any(marker in part for part in cmdline) and process.pid != os.getpid():
            found.append(process)
    return found


def test_two_agents_render_every_frame(farm: Farm, tmp_path: Path) -> None:
    scene = make_scene(tmp_path / "scene.blend", "1-6")
    out = tmp_path / "out"
    farm.start_daemon()
    farm.start_agent("a")
    farm.start_agent("b")
    job = farm.client.submit(spec(scene, out, "1-6", chunk=2))
    done = farm.wait_job(job.id)
    assert done.state is JobState.SUCCEEDED, farm.logs()
    assert done.task_counts[TaskState.DONE] == 3
    assert done.progress == 1.0 and done.frame_count == 6
    assert_frames(out, range(1, 7), (64, 36))
    tasks = farm.client.tasks(job.id)
    assert sorted(p for t in tasks for p in t.outputs) == sorted(
        str(out / f"f_{f:04d}.png") for f in range(1, 7)
    )
    assert len({t.agent_id for t in tasks}) == 2, "both agents should have taken work"
    log = farm.client.task_log(job.id, tasks[0].id)
    assert "Saved:" in log.text


def test_killed_agent_task_is_finished_by_another(farm: Farm, tmp_path: Path) -> None:
    scene = make_scene(tmp_path / "scene.blend", "1-4", resolution="160x90", samples=64)
    out = tmp_path / "out"
    farm.start_daemon()
    farm.start_agent("doomed")
    job = farm.client.submit(spec(scene, out, "1-4", chunk=4))
    wait_for(
        lambda: any(t.state is TaskState.RUNNING for t in farm.client.tasks(job.id)),
        60, "the task to start",
    )  # fmt: skip
    farm.kill_agent("doomed")
    farm.start_agent("rescuer")
    done = farm.wait_job(job.id)
    assert done.state is JobState.SUCCEEDED, farm.logs()
    task = farm.client.tasks(job.id)[0]
    assert task.attempts == 2
    assert_frames(out, range(1, 5), (160, 90))


def test_daemon_killed_and_restarted_loses_nothing(farm: Farm, tmp_path: Path) -> None:
    scene = make_scene(tmp_path / "scene.blend", "1-6", resolution="96x54", samples=16)
    out = tmp_path / "out"
    farm.start_daemon()
    farm.start_agent("a")
    job = farm.client.submit(spec(scene, out, "1-6", chunk=1))
    wait_for(
        lambda: farm.client.job(job.id).task_counts[TaskState.DONE] >= 2, 120,
        "two tasks to finish",
    )  # fmt: skip
    before = {t.id: t for t in farm.client.tasks(job.id) if t.state is TaskState.DONE}
    farm.kill_daemon()
    farm.start_daemon()
    after = {t.id: t for t in farm.client.tasks(job.id)}
    for task_id, task in before.items():
        assert after[task_id].state is TaskState.DONE
        assert after[task_id].outputs == task.outputs
    done = farm.wait_job(job.id)
    assert done.state is JobState.SUCCEEDED, farm.logs()
    assert_frames(out, range(1, 7), (96, 54))


def test_cancel_kills_the_render(farm: Farm, tmp_path: Path) -> None:
    scene = make_scene(tmp_path / "slow.blend", "1-2", resolution="320x180", samples=4096)
    out = tmp_path / "out"
    farm.start_daemon()
    farm.start_agent("a")
    job = farm.client.submit(spec(scene, out, "1-2", chunk=2))
    wait_for(
        lambda: any(t.state is TaskState.RUNNING for t in farm.client.tasks(job.id)),
        60, "the render to start",
    )  # fmt: skip
    wait_for(lambda: blender_processes(str(scene)), 30, "the Blender process to appear")
    cancelled = farm.client.cancel(job.id)
    assert cancelled.state is JobState.CANCELLED
    wait_for(lambda: not blender_processes(str(scene)), 30, "the Blender process to be killed")
    assert farm.agents["a"].poll() is None, "the agent itself must keep running"
    assert farm.client.job(job.id).state is JobState.CANCELLED
    assert not out.exists() or not [p for p in out.iterdir() if p.is_file()]
