"""Bursting end to end on the simulated cloud: the local farm is busy, a shot is due soon, the
daemon launches cloud nodes (real agent processes that see only the object store), they render
it with real Blender, a preempted node loses no frame and no retry, the frames come home and
match a direct render, and every cloud node is released once the backlog is gone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest

from common.errors import NotFound
from common.models import JobRoute, JobSpec, Placement
from common.states import JobState, TaskState
from tests.e2e.away import FRAMES, data_env, render_directly, same_pixels, shot_spec
from tests.e2e.conftest import make_scene, needs_bpy
from tests.e2e.farm import Farm, wait_for
from tests.e2e.studio_scene import make_studio_scene

pytestmark = [pytest.mark.slow, needs_bpy]


def cloud_agents(data_dir: Path) -> list[psutil.Process]:
    """Agent processes of the simulated cloud (their working folder is under the daemon's)."""
    found = []
    root = str(data_dir / "simcloud")
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = process.info.get("cmdline") or []
        if "cloud_agent" in cmdline and (process.info.get("cwd") or "").startswith(root):
            found.append(process)
    return found


def test_a_shot_due_soon_bursts_to_the_simulated_cloud_and_makes_its_date(
    farm: Farm, tmp_path: Path, weed: Any
) -> None:
    studio = tmp_path / "mnt" / "studio"
    scene = make_studio_scene(studio)
    reference = tmp_path / "direct"
    render_directly(scene, reference)
    blocker_scene = make_scene(tmp_path / "blocker.blend", "1-400", resolution="32x18", samples=1)

    farm.env.update(data_env(weed, studio, **{
        "CLOUDBURST_RANKING__DEFAULT_FRAME_S": "600",  # unmeasured frames look slow
        "CLOUDBURST_CLOUD__BACKEND": "simcloud",
        "CLOUDBURST_CLOUD__INTERVAL_S": "1",
        "CLOUDBURST_CLOUD__IDLE_TIMEOUT_S": "3",
        "CLOUDBURST_CLOUD__BUDGETS": json.dumps({"show": 50.0}),
        "CLOUDBURST_CLOUD__SIMCLOUD__BOOT_DELAY_S": "0.5",
        "CLOUDBURST_CLOUD__SIMCLOUD__MAX_NODES": "2",
        "CLOUDBURST_CLOUD__SIMCLOUD__PREEMPTION_GRACE_S": "5",
    }))  # fmt: skip
    farm.start_daemon()
    farm.start_agent("local-1")  # the local farm: one node, kept busy by one long local task
    blocker = farm.client.submit(
        JobSpec(
            name="blocker",
            owner="test",
            project="other",
            scene=str(blocker_scene),
            frames="1-400",
            chunk_size=1,
            output=str(tmp_path / "blocker" / "b_####"),
            output_format="PNG",
            placement=Placement.LOCAL,
            priority=100,
        )
    )
    wait_for(lambda: farm.client.job(blocker.id).state is JobState.RUNNING, 60, "the blocker")

    due = datetime.now(UTC) + timedelta(minutes=10)
    job = farm.client.submit(shot_spec(scene, Placement.AUTO, chunk_size=3, due=due))
    route = wait_for(
        lambda: (r := _route(farm, job.id)) and r.verdict == "burst" and r, 60,
        "the job to be routed to the cloud", every=0.5,
    )  # fmt: skip
    assert "cloud" in route.reason

    # Preempt the first cloud node that holds a task of the shot: SIGTERM, as OCI's notice.
    held = wait_for(lambda: _cloud_task(farm, job.id), 120, "a cloud node to take a task")
    victims = [p for p in cloud_agents(farm.data_dir) if _agent_name(p) == held["agent"]]
    assert victims, "the cloud node's agent process"
    victims[0].terminate()
    task_id = held["task"]
    wait_for(
        lambda: any(t.id == task_id and t.attempts >= 2 for t in farm.client.tasks(job.id))
        or farm.client.job(job.id).state.finished,
        120, "the preempted task to be taken again",
    )  # fmt: skip

    done = farm.wait_job(job.id, timeout=300)
    assert done.state is JobState.SUCCEEDED, farm.logs()
    assert done.finished_at is not None and done.finished_at < due  # it made its date
    tasks = farm.client.tasks(job.id)
    assert all(t.state is TaskState.DONE for t in tasks)
    preempted = next(t for t in tasks if t.id == task_id)
    assert preempted.attempts >= 2  # taken again after the preemption...
    assert "retry limit" not in preempted.error  # ...without spending its retries
    home = studio / "show" / "shots" / "render"
    names = [f"sh010_{f:04d}.png" for f in range(FRAMES[0], FRAMES[1] + 1)]
    assert sorted(p.name for p in home.iterdir()) == names
    for name in names:
        assert same_pixels(home / name, reference / name), name

    spend = farm.client.spend()
    show = next(s for s in spend.shows if s.project == "show")
    assert 0 < show.spent.compute <= show.budget
    assert spend.nodes_cost > 0 and spend.render_s > 0

    farm.client.cancel(blocker.id)
    wait_for(lambda: _all_released(farm), 120, "every cloud node to be released", every=1)
    wait_for(lambda: not cloud_agents(farm.data_dir), 60, "no cloud agent process left")


def _route(farm: Farm, job_id: int) -> JobRoute | None:
    try:
        return farm.client.route(job_id)
    except NotFound:
        return None


def _cloud_task(farm: Farm, job_id: int) -> dict[str, Any] | None:
    agents = {a.id: a for a in farm.client.agents()}
    for task in farm.client.tasks(job_id):
        agent = agents.get(task.agent_id or "")
        if task.state is TaskState.RUNNING and agent and not agent.studio_access:
            return {"task": task.id, "agent": agent.name}
    return None


def _agent_name(process: psutil.Process) -> str:
    try:
        return process.environ().get("CLOUDBURST_AGENT_NAME", "")
    except psutil.Error:
        return ""


def _all_released(farm: Farm) -> bool:
    nodes = [r for r in farm.client.resources() if r.kind == "cloud"]
    return bool(nodes) and all(n.state in ("terminated", "offline") for n in nodes)


def test_a_small_budget_stops_the_burst_and_running_cloud_tasks_finish(
    farm: Farm, tmp_path: Path, weed: Any
) -> None:
    studio = tmp_path / "mnt" / "studio"
    scene = make_studio_scene(studio, frames=(1, 40))
    farm.env.update(data_env(weed, studio, **{
        "CLOUDBURST_CLOUD__BACKEND": "simcloud",
        "CLOUDBURST_CLOUD__INTERVAL_S": "1",
        "CLOUDBURST_CLOUD__IDLE_TIMEOUT_S": "3",
        "CLOUDBURST_CLOUD__BUDGETS": json.dumps({"show": 4.0}),  # four cloud-seconds
        "CLOUDBURST_CLOUD__SIMCLOUD__BOOT_DELAY_S": "0.5",
        "CLOUDBURST_CLOUD__SIMCLOUD__MAX_NODES": "1",
        "CLOUDBURST_CLOUD__SIMCLOUD__PREEMPTIBLE_PRICE_PER_HOUR": "3600",  # 1 a second
        "CLOUDBURST_CLOUD__SIMCLOUD__ON_DEMAND_PRICE_PER_HOUR": "3600",
        "CLOUDBURST_RANKING__DEFAULT_FRAME_S": "1",
    }))  # fmt: skip
    farm.start_daemon()  # no local node: only the cloud can render, while the budget lasts
    job = farm.client.submit(shot_spec(scene, Placement.CLOUD, frames="1-40", chunk_size=1))
    wait_for(lambda: any(t.state is TaskState.DONE for t in farm.client.tasks(job.id)), 240,
             "the cloud to render a frame")  # fmt: skip
    wait_for(lambda: (r := _route(farm, job.id)) and r.verdict == "no-budget", 240,
             "routing to stop the burst at the budget", every=0.5)  # fmt: skip
    wait_for(lambda: _all_released(farm), 120, "the idle cloud node to be released", every=1)
    spent, tasks = _spent(farm), farm.client.tasks(job.id)
    done = [t for t in tasks if t.state is TaskState.DONE]
    assert 0 < len(done) < 40, "the cloud rendered some frames, not all"
    assert all(t.state in (TaskState.DONE, TaskState.QUEUED) for t in tasks)
    # Only tasks already running when the budget was reached may go past it.
    longest = max(t.finished_at.timestamp() - t.started_at.timestamp()  # type: ignore[union-attr]
                  for t in done)  # fmt: skip
    assert spent <= 4.0 + longest + 1.0
    assert farm.client.job(job.id).state in (JobState.RUNNING, JobState.QUEUED)
    assert not cloud_agents(farm.data_dir)


def _spent(farm: Farm) -> float:
    shows = [s for s in farm.client.spend().shows if s.project == "show"]
    return shows[0].spent.compute if shows else 0.0
