"""A client of the desktop's display stand-in, as an artist's viewer would use it: connect
with the one-time token, put and get files, ask the status, disconnect."""

from __future__ import annotations

from typing import Any

import requests


class DesktopRefusal(Exception):
    """The desktop said no: its status, code and sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class DesktopClient:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.connection: str | None = None
        self.user: str | None = None

    def connect(self, token: str) -> str:
        """Connects with ``token``; returns the user the desktop let in."""
        data = self._json("POST", "/connect", json={"token": token})
        self.connection, self.user = data["connection"], data["user"]
        return str(data["user"])

    def put(self, path: str, data: bytes) -> dict[str, Any]:
        return self._json("PUT", f"/files/{path}", data=data)

    def get(self, path: str) -> bytes:
        return self._send("GET", f"/files/{path}").content

    def status(self) -> dict[str, Any]:
        return self._json("GET", "/status")

    def disconnect(self) -> None:
        self._json("POST", "/disconnect")
        self.connection = None

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._send(method, path, **kwargs).json()
        return answer

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"X-Connection": self.connection} if self.connection else {}
        response = requests.request(
            method, self.url + path, headers=headers, timeout=self.timeout, **kwargs
        )
        if response.status_code >= 400:
            body = response.json()
            raise DesktopRefusal(response.status_code, body["code"], body["message"])
        return response
