"""GPU jobs go only to GPU cloud shapes: the burst pass keeps a job that needs more than the
shape has on the local farm, says why in its route, and launches no node for it."""

from __future__ import annotations

from pathlib import Path

import requests

from common.accounts import Role
from common.models import AgentRegistration
from tests.conftest import FakeClock, user_token
from tests.daemon.test_burst import FakeCloud, cloud_agent, make_app, stage, submit
from tests.serving import serve


def route_over_http(app: object, job_id: int) -> dict[str, object]:
    services = app.extensions["cloudburst"]  # type: ignore[attr-defined]
    token = user_token(services, "td", Role.TD)
    with serve(app) as url:
        answer = requests.get(
            f"{url}/api/v1/jobs/{job_id}/route",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        job = requests.get(
            f"{url}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
    assert answer.status_code == 200, answer.text
    return {"route": answer.json()["data"], "job": job.json()["data"]}


def test_a_gpu_job_late_for_its_date_stays_off_a_cpu_shape(
    tmp_path: Path, clock: FakeClock
) -> None:
    cloud = FakeCloud(clock)
    app = make_app(tmp_path, clock, cloud)  # the simulated shape: Sim.Standard, no GPU
    services = app.extensions["cloudburst"]
    job_id = submit(services, clock, requirements={"gpus": 1})
    stage(services, job_id)
    services.burst.run_pass()
    seen = route_over_http(app, job_id)
    assert seen["route"]["verdict"] == "shape-misfit"  # type: ignore[index]
    assert seen["route"]["reason"].startswith(  # type: ignore[index]
        "needs 1 GPU; the cloud shape Sim.Standard has none; local farm finishes at"
    )
    assert seen["route"]["cloud_quota"] == 0  # type: ignore[index]
    assert cloud.requests == []  # no node launched for it
    assert services.agents.lease(cloud_agent(services, "sim-1")) is None


def test_the_same_job_bursts_to_a_gpu_shape(tmp_path: Path, clock: FakeClock) -> None:
    cloud = FakeCloud(clock)
    app = make_app(tmp_path, clock, cloud, simcloud={"shape": "Sim.GPU", "gpus": 1})
    services = app.extensions["cloudburst"]
    job_id = submit(services, clock, requirements={"gpus": 1})
    stage(services, job_id)
    services.burst.run_pass()
    seen = route_over_http(app, job_id)
    assert seen["route"]["verdict"] == "burst"  # type: ignore[index]
    assert len(cloud.requests) == 1


def test_memory_beyond_the_shape_keeps_a_job_local(tmp_path: Path, clock: FakeClock) -> None:
    cloud = FakeCloud(clock)
    app = make_app(tmp_path, clock, cloud)  # 16 GB nodes
    services = app.extensions["cloudburst"]
    job_id = submit(services, clock, requirements={"min_memory_mb": 32_768})
    stage(services, job_id)
    services.burst.run_pass()
    seen = route_over_http(app, job_id)
    assert seen["route"]["reason"].startswith(  # type: ignore[index]
        "needs 32,768 MB of memory; the cloud shape Sim.Standard has 16,384 MB;"
    )
    assert cloud.requests == []


def test_a_job_neither_the_farm_nor_the_cloud_shape_can_run_says_both(
    tmp_path: Path, clock: FakeClock
) -> None:
    cloud = FakeCloud(clock)
    app = make_app(tmp_path, clock, cloud)
    services = app.extensions["cloudburst"]
    services.agents.register(AgentRegistration(name="cpu0", hostname="cpu0"))
    stuck = submit(services, clock, requirements={"gpus": 1})
    services.burst.run_pass()
    seen = route_over_http(app, stuck)
    assert seen["job"]["message"] == (  # type: ignore[index]
        "No known node can run this job: it needs 1 GPU; the farm's blender nodes have at most 0. "
        "Nor can the cloud: it needs 1 GPU; the cloud shape Sim.Standard has none."
    )
    fits = submit(services, clock, requirements={"min_memory_mb": 8_000})  # the shape has 16 GB
    assert services.jobs.get(fits).message == ""
