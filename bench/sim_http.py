"""A small asyncio HTTP/1.1 client for the benchmarks that play many agents in one process:
far cheaper per request than ``requests``, so the simulator leaves the cores to the daemon."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

API = "/api/v1"


def host_port(url: str) -> tuple[str, int]:
    """The host and port of a daemon's URL (an IPv6 host without its brackets)."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None, url
    return parts.hostname, parts.port


class HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status = status


class Connection:
    """One HTTP/1.1 connection, kept alive as the real agent's ``requests.Session`` keeps it
    (``keepalive=False``: a connection per request)."""

    def __init__(self, host: str, port: int, token: str, keepalive: bool) -> None:
        self.host, self.port, self.token, self.keepalive = host, port, token, keepalive
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def request(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, dict[str, str], Any]:
        async with self._lock:  # one request at a time on a connection
            return await self._request(method, path, body)

    async def _request(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {API}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Length: {len(payload)}\r\n"
        )
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if not self.keepalive:
            head += "Connection: close\r\n"
        for attempt in (1, 2):  # a kept connection the daemon closed meanwhile: once more
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(head.encode() + b"\r\n" + payload)
                status, headers = await self._read_head(self._reader)
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        length = int(headers.get("content-length", "0"))
        data = await self._reader.readexactly(length) if length else b""
        if not self.keepalive or headers.get("connection", "").lower() == "close":
            await self.close()
        if status >= 400:
            raise HttpError(status, data)
        parsed = json.loads(data)["data"] if data else None
        return status, headers, parsed

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return status, headers

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._reader = None
