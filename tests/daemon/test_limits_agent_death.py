"""A limit's unit comes back after the agent holding it is killed with SIGKILL: a real agent
process renders (a stand-in Blender that never ends) while holding the only unit, dies without a
word, the reaper requeues its task once the lease ran out, and another node gets the unit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from common.accounts import Role
from common.config import Settings
from daemon.app import Services, create_app
from tests.conftest import user_token
from tests.daemon.http_farm import HttpFarm
from tests.e2e.farm import wait_for
from tests.serving import serve

#: A Blender that starts and never finishes (the render the agent dies in the middle of).
ENDLESS_BLENDER = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "Blender 4.2.3"; exit 0; fi
exec sleep 600
"""
LEASE_TTL_S = 3.0


@pytest.mark.slow
def test_a_unit_comes_back_after_its_agent_is_sigkilled(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", lease_ttl_s=LEASE_TTL_S, heartbeat_interval_s=0.5,
        poll_interval_s=0.2,
    )  # fmt: skip
    app = create_app(settings)  # the real clock: the lease runs out in real time
    services: Services = app.extensions["cloudburst"]
    blender = tmp_path / "blender"
    blender.write_text(ENDLESS_BLENDER)
    blender.chmod(0o755)
    with serve(app, threads=8) as url:
        farm = HttpFarm(url, user_token(services, "tess", Role.TD))
        farm.put_limit("maya", 1)
        job = farm.submit(frames="1-2", chunk_size=1, limits=["maya"],
                          output=str(tmp_path / "frames" / "f_####"))  # fmt: skip
        agent = start_agent(tmp_path, url, services, blender)
        try:
            wait_for(lambda: farm.limits()["maya"]["in_use"] == 1, 30, "the agent to take a unit")
            held = farm.job(job["id"])["task_counts"]
            assert held["leased"] + held["running"] == 1
            agent.send_signal(signal.SIGKILL)
            agent.wait(timeout=10)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait(timeout=10)
        other = farm.register("other")
        assert farm.lease(other) is None  # the dead agent's lease still runs: no unit free
        assert farm.limits()["maya"]["in_use"] == 1
        time.sleep(LEASE_TTL_S + 0.5)
        assert services.reaper.reap() == 1  # the daemon's scheduler does this every few s
        assert farm.limits()["maya"]["in_use"] == 0
        task = farm.lease(other)
        assert task is not None and task["job_id"] == job["id"]
        assert farm.limits()["maya"]["in_use"] == 1


def start_agent(
    tmp_path: Path, url: str, services: Services, blender: Path
) -> subprocess.Popen[bytes]:
    token = services.enrollment.mint("tess").token
    env = {
        **os.environ,
        "CLOUDBURST_ENROLLMENT_TOKEN": token,
        "CLOUDBURST_HEARTBEAT_INTERVAL_S": "0.5",
        "CLOUDBURST_POLL_INTERVAL_S": "0.2",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CLOUDBURST_CONFIG", None)
    log = open(tmp_path / "agent.log", "ab")  # noqa: SIM115 - the child holds it
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "cloud_agent", "--daemon", url, "--name", "doomed",
             "--blender", str(blender), "--state-dir", str(tmp_path / "agent")],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    finally:
        log.close()
