"""One way for tests to serve a WSGI app over real HTTP on 127.0.0.1, and to stop it cleanly.

Stopping closes every socket from the server's own loop thread (no ``select`` on a closed
descriptor) and ends the worker threads, whose per-thread SQLite connections close with them: a
long test session otherwise runs past the 1,024 descriptors ``select`` can watch.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import waitress


@contextmanager
def serve(app: Any, threads: int = 4, **options: Any) -> Iterator[str]:
    """``app`` served by waitress on a free 127.0.0.1 port; yields its URL.

    Args:
        app: the WSGI application.
        threads: waitress's worker threads.
        **options: other waitress options (``daemon.server_options``).
    """
    options.setdefault("threads", threads)
    server: Any = waitress.create_server(app, host="127.0.0.1", port=0, **options)
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()

    def stop() -> None:  # on the server's thread, so no socket closes under its select()
        for channel in list(server._map.values()):
            if channel is not server and channel is not server.trigger:
                channel.handle_close()  # keep-alive connections would keep the loop running
        server.close()  # the listening socket and the trigger: the loop ends with an empty map

    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # A wake-up by a worker thread may run ``stop`` before this write: the trigger is closed.
        with contextlib.suppress(OSError):
            server.trigger.pull_trigger(stop)
        thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=5)
