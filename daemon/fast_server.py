"""Serves the agents' fast address (``[agents] fast_bind``) beside waitress, in each serving
process: uvicorn with httptools on a thread of its own, over the process's ``Services``
(``daemon.api.fast``). Off (nothing listens) while ``fast_bind`` is empty."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator

from common.config import Settings
from common.errors import ConfigError
from daemon.api.fast import FastAgentApi
from daemon.container import Services
from daemon.listening import listening_socket
from daemon.server_options import parse_bind, serving_threads

logger = logging.getLogger(__name__)


def fast_socket(settings: Settings, *, first: bool) -> socket.socket | None:
    """The listening socket of the fast address; None while it is off. The ``first`` process
    makes sure nobody else listens there (``listening.listening_socket``).

    Raises:
        ConfigError: the address is taken or cannot be bound.
    """
    bind = settings.agents.fast_bind
    if not bind:
        return None
    try:
        host, port = parse_bind(bind)
    except ConfigError:
        raise ConfigError(
            f"[agents] fast_bind must be HOST:PORT, such as 0.0.0.0:8643 (got {bind!r}); "
            "leave it empty to serve agents on bind only."
        ) from None
    try:
        sock = listening_socket(host, port, first=first)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted ones inherit it
        return sock
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on {host}:{port} ([agents] fast_bind): {exc.strerror or exc}. "
            "Choose a free address, or leave fast_bind empty to serve agents on bind only."
        ) from None


@contextlib.contextmanager
def fast_server(
    found: Services, settings: Settings, sock: socket.socket | None
) -> Iterator[str | None]:
    """Serves the fast address on ``sock`` until the block ends; yields its URL (None, and
    serves nothing, without a socket). The socket is closed on the way out."""
    if sock is None:
        yield None
        return
    import uvicorn  # the daemon's dependency, loaded only where the fast address is on

    app = FastAgentApi(found, serving_threads(settings))
    config = uvicorn.Config(
        app, http="httptools", loop="asyncio", lifespan="off", interface="asgi3",
        log_config=None, access_log=False, proxy_headers=False, server_header=False,
        headers=[("server", "cloudburst")], timeout_keep_alive=60, backlog=2048,
        timeout_graceful_shutdown=5,  # well before a worker's stop turns to SIGKILL (10 s)
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="fast-agents", daemon=True
    )
    thread.start()
    host, port = sock.getsockname()[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.close()
