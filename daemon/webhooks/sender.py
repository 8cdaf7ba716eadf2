"""The one HTTP request that carries a notification: to the address the rule checked.

The request goes to the address ``targets.resolve`` checked (the host name is still sent in
``Host`` and checked against the certificate), follows no redirect, and has a timeout; only
the status of the answer is read, and a little of its body.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from daemon.webhooks.targets import Target

USER_AGENT = "Cloudburst-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status: int | None
    """The receiver's HTTP status; None when it did not answer."""
    error: str = ""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked against the host name."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(
    target: Target, address: str, body: bytes, headers: dict[str, str], timeout: float
) -> Answer:
    """POSTs ``body`` to ``target`` at ``address``; never raises for the network's sake."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, address, timeout)
    else:
        connection = http.client.HTTPConnection(address, target.port, timeout=timeout)
    sent = {
        "Host": target.host_header, "Content-Type": "application/json",
        "User-Agent": USER_AGENT, **headers,
    }  # fmt: skip
    try:
        connection.request("POST", target.path, body=body, headers=sent)
        response = connection.getresponse()
        response.read(4096)
        return Answer(status=response.status)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(status=None, error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
