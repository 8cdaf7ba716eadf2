"""Sign-in attempt limits per user and per address; the clock is a parameter."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from common.errors import RateLimited


class LoginLimiter:
    """Refuses sign-ins for a key (a user name or an address) after too many recent failures.

    In memory: a restart forgets, which only gives an attacker a few more tries per restart.
    """

    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float]) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        """Raises ``RateLimited`` when any key has used up its failures in the window."""
        now = self._clock()
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if len(recent) >= self.max_failures:
                    wait = recent[0] + self.window_s - now
                    raise RateLimited(
                        f"Too many failed sign-ins for {key}; try again in {wait:.0f} s.",
                        details={"retry_after_s": round(wait, 1)},
                    )

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, user_key: str) -> None:
        with self._lock:
            self._failures.pop(user_key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= now - self.window_s:
            recent.popleft()
        return recent
