"""A daemon process with ``[agents] fast_bind`` and two serving processes: both answer the
agents on the fast address, the protocol announces it, a taken fast address stops the daemon
from starting with a clear message, and the daemon stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from common.cli.local_admin import local_admin
from tests.daemon.test_workers import _children, _cpu_ticks, _wait_for
from tests.e2e.farm import free_port

pytestmark = pytest.mark.slow


def _start(data: Path, port: int, fast: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", "--bind", f"127.0.0.1:{port}", "--data-dir", str(data)],
        env={**os.environ, "CLOUDBURST_LOG_LEVEL": "WARNING", "CLOUDBURST_SERVER_WORKERS": "2",
             "CLOUDBURST_AGENTS__FAST_BIND": f"127.0.0.1:{fast}"},
        stderr=subprocess.PIPE,
    )  # fmt: skip


def test_every_serving_process_answers_on_the_fast_address(tmp_path: Path) -> None:
    port, fast = free_port(), free_port()
    url, fast_url = f"http://127.0.0.1:{port}/api/v1", f"http://127.0.0.1:{fast}/api/v1"
    daemon = _start(tmp_path / "data", port, fast)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                assert daemon.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        admin = {"Authorization": f"Bearer {local_admin(tmp_path / 'data').bearer()}"}
        agents = []
        for i in range(4):
            answer = requests.post(f"{url}/agents", headers=admin, timeout=10,
                                   json={"name": f"n{i}", "hostname": f"n{i}"})  # fmt: skip
            agents.append((answer.json()["data"]["id"], answer.json()["data"]["token"]))
        token = {"Authorization": f"Bearer {agents[0][1]}"}
        _wait_for(lambda: len(_children(daemon.pid)) == 1)
        (worker,) = _children(daemon.pid)
        before = _cpu_ticks(worker)
        protocol = requests.get(f"{url}/agents/protocol", headers=token, timeout=10).json()
        assert protocol["data"]["fast_url"] == f"http://127.0.0.1:{fast}"
        for _ in range(50):  # new connections each: the kernel spreads them over both processes
            for agent_id, agent_token in agents:
                answer = requests.post(
                    f"{fast_url}/agents/{agent_id}/updates", json={"task_ids": []},
                    headers={"Authorization": f"Bearer {agent_token}"}, timeout=10,
                )  # fmt: skip
                assert answer.status_code == 200, answer.text
        assert _cpu_ticks(worker) > before + 5  # the worker process served its share
        foreign = requests.post(
            f"{fast_url}/agents/{agents[1][0]}/lease", headers=token, timeout=10
        )
        assert foreign.status_code == 403 and foreign.json()["code"] == "forbidden"

        with socket.create_connection(("127.0.0.1", fast), timeout=5):
            pass  # still listening
        other = _start(tmp_path / "other", free_port(), fast)  # its fast address is taken
        _, err = other.communicate(timeout=60)
        assert other.returncode != 0 and b"fast_bind" in err, err.decode()

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
