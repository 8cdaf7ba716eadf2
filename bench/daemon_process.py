"""Starts a real daemon process on a free 127.0.0.1 port for the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_daemon(data_dir: Path, *extra: str) -> Iterator[str]:
    """Yields the URL of a daemon subprocess; stops it on exit."""
    with running_daemon_process(data_dir, *extra) as (url, _process):
        yield url


@contextmanager
def running_daemon_process(
    data_dir: Path, *extra: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Yields the URL of a daemon subprocess and the process; stops it on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CLOUDBURST_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--bind", f"127.0.0.1:{port}", "--data-dir",
         str(data_dir), *extra],
        env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/api/v1/health", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the daemon did not start") from None
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its live children (a daemon's worker processes),
    from /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total
