"""Who is connected to the desktop, when it was last used, and what the daemon last said."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable


class Presence:
    """The desktop's clients and its use. Thread-safe: the display's worker threads change it,
    the report loop reads it.

    Only a client's own requests count as use (connecting, its files, disconnecting); anyone
    asking ``/status`` does not, so a monitor cannot keep an unused desktop from being idle.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._connections: dict[str, str] = {}
        self._last_use = clock()
        self._warning: str | None = None
        self._ending = False

    def connect(self, user: str) -> str:
        """Records a client of ``user`` (its token already redeemed); returns its connection
        id, which the client sends as ``X-Connection`` from then on."""
        connection = secrets.token_urlsafe(18)
        with self._lock:
            self._connections[connection] = user
            self._last_use = self._clock()
        return connection

    def use(self, connection: str | None) -> str | None:
        """The user of a connection, noting the use; None when it is unknown."""
        with self._lock:
            user = self._connections.get(connection or "")
            if user is not None:
                self._last_use = self._clock()
            return user

    def disconnect(self, connection: str | None) -> bool:
        with self._lock:
            if self._connections.pop(connection or "", None) is None:
                return False
            self._last_use = self._clock()
            return True

    def touch(self) -> None:
        """A use from outside the stand-in (a DCV client the broker let in)."""
        with self._lock:
            self._last_use = self._clock()

    @property
    def connected(self) -> bool:
        with self._lock:
            return bool(self._connections)

    @property
    def idle_s(self) -> float:
        """Seconds since the last use (or since the agent started)."""
        with self._lock:
            return max(0.0, self._clock() - self._last_use)

    @property
    def warning(self) -> str | None:
        with self._lock:
            return self._warning

    @warning.setter
    def warning(self, text: str | None) -> None:
        with self._lock:
            self._warning = text

    @property
    def ending(self) -> bool:
        with self._lock:
            return self._ending

    def end(self, warning: str | None) -> None:
        """No new connection from now on; ``warning`` is what the daemon said."""
        with self._lock:
            self._ending = True
            self._warning = warning or self._warning
