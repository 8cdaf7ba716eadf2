"""A webhook receiver on 127.0.0.1 (waitress): it keeps what it was sent and answers with the
statuses a test scripts, then 200."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.serving import serve


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    answers: list[int] = field(default_factory=list)
    """Statuses to answer, first first; 200 once they are spent."""
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, statuses: Iterable[int]) -> None:
        with self._lock:
            self.answers = list(statuses)

    def app(self, environ: dict[str, Any], start: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        with self._lock:
            self.received.append(Received(environ["PATH_INFO"], headers, body))
            status = self.answers.pop(0) if self.answers else 200
        start(f"{status} X", [("Content-Type", "text/plain")])
        return [b"ok"]


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A receiver served on a free 127.0.0.1 port; ``url`` is its ``/hook`` address."""
    found = Receiver()
    with serve(found.app, threads=2) as url:
        found.url = f"{url}/hook"
        yield found
