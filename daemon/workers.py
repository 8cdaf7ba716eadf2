"""More processes serving one daemon's requests (``server_workers``), on one address and one
database.

One Python process serves requests on one core at a time (the interpreter lock): a daemon for a
farm of thousands of nodes needs more. The daemon's first process binds the listening socket and
starts ``server_workers - 1`` worker processes that bind the same address
(``SO_REUSEPORT``: only processes of the same user may); the kernel spreads new connections
evenly over them. Every process serves the whole API with its own connections to the
same SQLite file (writers queue for one lock across the processes, ``storage/db.py``); only the
first process runs the scheduler (reaper, ranking, ShotGrid, backups), so no periodic job runs
twice.

What a process keeps in memory stays a cache that expires by itself (a sign-in, the queue's
order, the farm's size for the idle poll): a change one process writes is seen by another within
that cache's lifetime, a second or a few (docs/security.md names the sign-in cache's).

A worker that dies is started again by the first process's check; stopping the daemon stops
them all.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import signal
import subprocess
import sys
from types import FrameType

from common.config import Settings
from daemon.listening import listening_socket

logger = logging.getLogger(__name__)


class Workers:
    """The worker processes of a daemon: started, kept alive, stopped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: list[subprocess.Popen[bytes]] = []
        self._stopping = False

    @property
    def count(self) -> int:
        """Processes besides the first."""
        return self.settings.server_workers - 1

    def start(self) -> None:
        for _ in range(self.count):
            self.processes.append(self._spawn())
        if self.processes:
            logger.info("Serving from %d processes", len(self.processes) + 1)

    def check(self) -> int:
        """Starts again the workers that died; returns how many."""
        if self._stopping:
            return 0
        restarted = 0
        for i, process in enumerate(self.processes):
            if process.poll() is not None:
                logger.warning(
                    "Worker process %d ended (exit %s); starting another", process.pid,
                    process.returncode,
                )  # fmt: skip
                self.processes[i] = self._spawn()
                restarted += 1
        return restarted

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping = True
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-c", "from daemon.workers import worker_main; worker_main()"],
            stdin=subprocess.PIPE,
        )
        assert process.stdin is not None
        process.stdin.write(pickle.dumps(self.settings))  # the settings, secrets included
        process.stdin.close()
        return process


def worker_main() -> None:
    """A worker process: serves requests on its own socket on the daemon's address until
    SIGTERM."""
    import waitress

    from daemon.app import create_app
    from daemon.collector import settle_collector
    from daemon.container import services_of
    from daemon.fast_server import fast_server, fast_socket
    from daemon.process_services import process_services
    from daemon.server_options import parse_bind, server_options

    settings: Settings = pickle.loads(sys.stdin.buffer.read())  # from the first process
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s[worker]: %(message)s",
    )
    sock = listening_socket(*parse_bind(settings.bind))
    app = create_app(settings)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = waitress.create_server(app, sockets=[sock], **server_options(settings))

    def stop(signum: int, frame: FrameType | None) -> None:
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the first process, which stops us
    found = services_of(app)
    fast_sock = fast_socket(settings, first=False)
    settle_collector()
    with (
        process_services(found, settings),
        fast_server(found, settings, fast_sock),
        contextlib.suppress(OSError),
    ):
        server.run()
