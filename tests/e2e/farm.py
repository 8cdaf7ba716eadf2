"""A real farm on this machine for end-to-end tests: a daemon process and agent processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from cloud_agent.identity import TOKEN_FILE
from common.cli.local_admin import local_admin
from common.client import DaemonClient
from common.models import Job


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Polls until ``condition()`` is truthy and returns it; fails the test with ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Farm:
    """Starts, kills and restarts the daemon and agents of one test; stops all at the end."""

    def __init__(self, root: Path, *, lease_ttl: float = 4.0, heartbeat: float = 0.5) -> None:
        self.root = root
        self.data_dir = root / "daemon"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CLOUDBURST_LEASE_TTL_S": str(lease_ttl),
            "CLOUDBURST_HEARTBEAT_INTERVAL_S": str(heartbeat),
            "CLOUDBURST_POLL_INTERVAL_S": "0.3",
            "CLOUDBURST_REAPER_INTERVAL_S": "0.5",
            "CLOUDBURST_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("CLOUDBURST_CONFIG", None)
        self.daemon: subprocess.Popen[bytes] | None = None
        self.agents: dict[str, subprocess.Popen[bytes]] = {}
        self.client = DaemonClient(self.url, timeout=10, retries=0)
        self._logs: list[Any] = []

    # --- daemon -------------------------------------------------------------------------

    def start_daemon(self) -> None:
        log = open(self.root / "daemon.log", "ab")  # noqa: SIM115 (closed in stop_all)
        self._logs.append(log)
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "daemon", "--bind", f"127.0.0.1:{self.port}",
             "--data-dir", str(self.data_dir)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self._healthy, 30, "the daemon to answer /health")
        # The daemon writes its local admin credential on first start, as `cloudburst render`
        # reads it: submit with it and enroll the agents.
        self.client.auth = local_admin(self.data_dir)

    def kill_daemon(self) -> None:
        assert self.daemon is not None
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait(timeout=10)

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/v1/health", timeout=1).ok
        except requests.RequestException:
            return False

    # --- agents -------------------------------------------------------------------------

    def start_agent(self, name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Starts an agent process; ``env`` adds to (or overrides) the farm's environment."""
        log = open(self.root / f"agent-{name}.log", "ab")  # noqa: SIM115
        self._logs.append(log)
        state_dir = self.root / f"agent-{name}"
        env = {**self.env, **(env or {})}
        if not (state_dir / TOKEN_FILE).exists():  # a restarted agent keeps its own token
            env["CLOUDBURST_ENROLLMENT_TOKEN"] = self.client.enrollment_token().token
        process = subprocess.Popen(
            [sys.executable, "-m", "cloud_agent", "--daemon", self.url, "--name", name,
             "--state-dir", str(state_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.agents[name] = process
        return process

    def kill_agent(self, name: str) -> None:
        process = self.agents[name]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    # --- looking -------------------------------------------------------------------------

    def wait_job(self, job_id: int, timeout: float = 240) -> Job:
        """Waits until the job is finished and returns it."""
        job: Job = wait_for(
            lambda: (j := self.client.job(job_id)).state.finished and j, timeout,
            f"job {job_id} to finish",
        )  # fmt: skip
        return job

    def logs(self) -> str:
        """Every process log, for assertion messages."""
        return "\n".join(
            f"==== {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.root.glob("*.log"))
        )

    def stop_all(self) -> None:
        processes = [*self.agents.values(), *([self.daemon] if self.daemon else [])]
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for log in self._logs:
            log.close()
        self.client.close()
