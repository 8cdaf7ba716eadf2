"""Sign-in attempt limits per (user name, address) and per address; the clock is a parameter.

Failures count under two keys: a name together with the address it was tried from, and the
address alone. Nothing counts per name only, so failures from one address never lock a name for
the others: the right password from an address that did nothing wrong always gets in. Guessing
one name from many addresses costs each of them its own budget.

The table is bounded: at most ``max_keys`` keys, the one whose last failure is the oldest
forgotten first, and at most ``limit`` times per key. A flood of unknown names therefore costs
no more memory than the cap, and the flooding address locks itself out after ``per_address``
failures, long before it can push others' counts out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable

from common.errors import RateLimited

Key = tuple[str, ...]


class LoginLimiter:
    """Refuses sign-ins from an address that failed too often lately, for one name or overall.

    In memory: a restart forgets, which only gives an attacker a few more tries per restart.
    Thread-safe; any request thread calls it.
    """

    def __init__(
        self, per_name: int, per_address: int, window_s: float, clock: Callable[[], float],
        max_keys: int = 10_000,
    ) -> None:  # fmt: skip
        self.per_name = per_name
        self.per_address = per_address
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[Key, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are tracked now."""
        return len(self._failures)

    def check(self, name: str, address: str) -> None:
        """Raises ``RateLimited`` when this address used up its failures, for ``name`` or in all.

        Records nothing: only ``failed`` adds to the table.
        """
        now = self._clock()
        with self._lock:
            for key, limit, whose in (
                (_pair(name, address), self.per_name, f"for {name!r} from your address"),
                (_address(address), self.per_address, "from your address"),
            ):
                recent = self._recent(key, now)
                if len(recent) >= limit:
                    wait = recent[-limit] + self.window_s - now
                    raise RateLimited(
                        f"Too many failed sign-ins {whose}; wait {wait:.0f} s, then try again "
                        "with the right user name and password.",
                        details={"retry_after_s": round(wait, 1)},
                    )

    def failed(self, name: str, address: str) -> None:
        """Counts a failed sign-in of ``name`` from ``address``."""
        now = self._clock()
        with self._lock:
            for key, limit in (
                (_pair(name, address), self.per_name),
                (_address(address), self.per_address),
            ):
                recent = self._failures.pop(key, None)
                if recent is None:
                    recent = deque(maxlen=limit)
                recent.append(now)
                self._failures[key] = recent  # now the newest
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, name: str, address: str) -> None:
        """Forgets the failures of ``name`` from ``address`` (not the address's own count)."""
        with self._lock:
            self._failures.pop(_pair(name, address), None)

    def _recent(self, key: Key, now: float) -> deque[float]:
        """The key's failures within the window; a key with none left is dropped."""
        recent = self._failures.get(key)
        if recent is None:
            return deque()
        while recent and recent[0] <= now - self.window_s:
            recent.popleft()
        if not recent:
            del self._failures[key]
        return recent


def _pair(name: str, address: str) -> Key:
    return ("name", name, address)


def _address(address: str) -> Key:
    return ("address", address)
