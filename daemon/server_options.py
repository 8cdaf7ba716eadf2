"""waitress's options for the daemon's serving processes (``server.py``, ``workers.py``)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from common.config import Settings
from common.errors import ConfigError
from daemon.api.body import largest_body


def serving_threads(settings: Settings) -> int:
    """The configured number of request threads, else twice the CPUs, from 4 to 16."""
    if settings.server_threads is not None:
        return settings.server_threads
    return min(16, max(4, 2 * (os.cpu_count() or 2)))


def server_options(settings: Settings) -> dict[str, Any]:
    """waitress's options besides the address: threads, connections, and the largest body
    (waitress answers 413 to a longer ``Content-Length`` before reading a byte of it, and
    stops a chunked body there; each operation holds its body to less, ``api/body.py``)."""
    return {
        "threads": serving_threads(settings), "ident": "cloudburst",
        # poll(), not select(): no limit at 1,024 descriptors, for farms of thousands of nodes
        "connection_limit": settings.server_connections, "asyncore_use_poll": True,
        "channel_timeout": 60, "backlog": 2048,
        "max_request_body_size": largest_body(settings) + 1,  # waitress refuses >= this
    }  # fmt: skip


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"bind must be HOST:PORT, such as 127.0.0.1:8642 (got {bind!r}).")
    return host.strip("[]"), int(port)


WILDCARDS = ("0.0.0.0", "::", "")
"""Hosts that mean every address of the machine: no address an agent can reach."""


def announced_fast_url(fast_bind: str, asked_host: str) -> str | None:
    """The URL agents are told to send their busiest calls to (``[agents] fast_bind``), or
    None while it is off. A bind on every address is announced under the host name the agent
    itself reached the daemon by (``asked_host``, the request's ``Host``)."""
    if not fast_bind:
        return None
    host, port = parse_bind(fast_bind)
    if host in WILDCARDS:
        host = urlsplit(f"//{asked_host}").hostname or "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
