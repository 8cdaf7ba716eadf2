"""A TCP proxy in front of a daemon that can lose answers: the request reaches the daemon and is
acted on, but the connection is cut before its answer gets back (a dropped connection)."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from urllib.parse import urlsplit


def read_message(conn: socket.socket) -> bytes | None:
    """One HTTP/1.1 message with a Content-Length body (or none); None at the end of input."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


class DroppingProxy:
    """Forwards each request to ``upstream`` on a fresh connection; while ``drops`` is above
    zero, an answer is thrown away and the client's connection closed instead."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.drops = 0
        self.requests: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def header_values(self, name: str) -> list[str]:
        """The values of header ``name`` in every request seen, in order."""
        values = []
        for request in self.requests:
            for line in request.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
                key, _, value = line.partition(b":")
                if key.strip().lower() == name.lower().encode():
                    values.append(value.strip().decode())
        return values

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while (request := read_message(conn)) is not None:
                self.requests.append(request)
                with socket.create_connection(self.upstream, timeout=10) as upstream:
                    upstream.sendall(request)
                    answer = read_message(upstream)
                if answer is None or self.drops > 0:
                    self.drops -= 1
                    return  # the daemon acted; its answer is lost with the connection
                conn.sendall(answer)

    def __enter__(self) -> DroppingProxy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.close()
