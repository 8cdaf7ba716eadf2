"""A daemon serving from several processes (``server_workers``): each serves requests over the
same database, nothing written is lost between them, a worker that dies comes back, and
stopping the daemon stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from common.cli.local_admin import local_admin
from tests.e2e.farm import free_port

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(check: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def test_two_processes_serve_one_database_and_stop_together(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    data = tmp_path / "data"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--bind", f"127.0.0.1:{port}", "--data-dir", str(data)],
        env={**os.environ, "CLOUDBURST_LOG_LEVEL": "WARNING", "CLOUDBURST_SERVER_WORKERS": "2"},
    )  # fmt: skip
    try:

        def up() -> bool:
            try:
                return requests.get(f"{url}/health", timeout=1).ok
            except requests.ConnectionError:
                assert daemon.poll() is None
                return False

        _wait_for(up, 60)
        _wait_for(lambda: len(_children(daemon.pid)) == 1)
        (worker,) = _children(daemon.pid)
        before = _cpu_ticks(worker)
        headers = {"Authorization": f"Bearer {local_admin(data).bearer()}"}

        def submit(i: int) -> int:
            # a new connection each time: the kernel hands each to one of the processes
            answer = requests.post(f"{url}/jobs", headers=headers, timeout=30, json={
                "name": f"shot{i:03d}", "scene": "/show/shot.blend", "frames": "1-4",
                "output": "/show/out/f_####"})  # fmt: skip
            assert answer.status_code == 201, answer.text
            return int(answer.json()["data"]["id"])

        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(submit, range(160)))
        assert len(set(ids)) == 160  # every write of both processes kept, no id twice
        listed = requests.get(f"{url}/jobs", headers=headers, params={"limit": 200}, timeout=30)
        assert listed.json()["data"]["total"] == 160
        assert _cpu_ticks(worker) > before + 5  # the worker served its share

        second = subprocess.run(  # a daemon started again by mistake fails, shares nothing
            [sys.executable, "-m", "daemon", "--bind", f"127.0.0.1:{port}", "--data-dir",
             str(tmp_path / "other")],
            env={**os.environ, "CLOUDBURST_LOG_LEVEL": "WARNING",
                 "CLOUDBURST_SERVER_WORKERS": "2"},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode != 0 and "Cannot listen" in second.stderr

        os.kill(worker, signal.SIGKILL)  # a worker that dies is started again
        _wait_for(lambda: [p for p in _children(daemon.pid) if p != worker])
        (second,) = _children(daemon.pid)
        assert up()

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        assert not _alive(second)  # stopped with the daemon, not left behind
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
