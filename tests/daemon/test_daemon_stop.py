"""The daemon stops on SIGTERM while agents hold idle keep-alive connections (as every agent
and panel does between requests), instead of waiting for each connection to time out."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.e2e.farm import free_port

REQUEST = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"


def test_sigterm_stops_the_daemon_with_idle_connections_open(tmp_path: Path) -> None:
    port = free_port()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "daemon", "--bind", f"127.0.0.1:{port}", "--data-dir",
         str(tmp_path / "data")],
        env={**os.environ, "CLOUDBURST_LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    idle: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except requests.ConnectionError:
                assert daemon.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        for _ in range(3):  # answered once, then left open and silent
            conn = socket.create_connection(("127.0.0.1", port))
            conn.sendall(REQUEST)
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
            idle.append(conn)
        daemon.send_signal(signal.SIGTERM)
        # waitress closes idle connections after 60 s: well before that, the daemon is gone
        assert daemon.wait(timeout=20) == 0
    finally:
        for conn in idle:
            conn.close()
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
