"""The listening sockets of a daemon's serving processes, which share each address
(``server_workers``: ``daemon.workers``; the agents' fast address: ``daemon.fast_server``)."""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int, *, first: bool = False) -> socket.socket:
    """A listening socket of the daemon on ``host:port``, one per process: the processes of
    one daemon bind the same address (``SO_REUSEPORT``) and the kernel spreads connections
    over them. The ``first`` process makes sure nobody listens there yet, so that a second
    daemon started by mistake fails rather than shares the address.

    Raises:
        OSError: the address is taken (``first``) or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if first:
        with socket.socket(family, socket.SOCK_STREAM) as probe:  # no SO_REUSEPORT: exclusive
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock
