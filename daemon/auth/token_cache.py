"""Who recently checked bearer tokens stand for, kept a few seconds so a busy agent's token is
not hashed and looked up in SQLite on every request.

Keyed by the token's hash (never the token), bounded (the least recently used entry goes
first), and only for tokens that were valid: a bad token is always checked in full. An entry
lives ``ttl_s`` at most, never past the expiry of the token itself, and never when the clock
went back since it was stored.

Revoking drops the entries at once in this process (``forget_user``, ``forget_session``,
``forget_agent``), called after the revocation commits. A lookup that ran while a revocation
committed may have read the old rows: ``put`` refuses what a lookup started before the last
``forget_*`` found (the generation counter), so a revoked principal is never stored again
after its revocation. Another process with its own cache stops accepting the token within
``ttl_s``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from daemon.auth.principal import Principal


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    stored_at: float
    expires_at: float


class CredentialCache:
    """Principals by token hash, for at most ``ttl_s`` seconds (0: nothing is kept)."""

    def __init__(self, ttl_s: float, max_entries: int, clock: Callable[[], float]) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> Principal | None:
        """The principal stored for ``digest``, if still fresh."""
        if self.ttl_s <= 0:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if not entry.stored_at <= now < entry.expires_at:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry.principal

    def generation(self) -> int:
        """Read before looking a token up; handed back to ``put``."""
        return self._generation

    def put(
        self, digest: str, principal: Principal, generation: int, expires_at: float | None = None
    ) -> None:
        """Keeps ``principal`` for ``digest`` unless a revocation happened since
        ``generation`` was read; never past ``expires_at`` (the token's own expiry)."""
        if self.ttl_s <= 0 or self.max_entries <= 0:
            return
        now = self._clock()
        until = now + self.ttl_s if expires_at is None else min(now + self.ttl_s, expires_at)
        with self._lock:
            if generation != self._generation:
                return  # a revocation committed while this lookup ran: it may be stale
            self._entries[digest] = _Entry(principal, now, until)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget_user(self, user_id: int) -> None:
        """Drops every token of user ``user_id`` (sessions and API keys)."""
        self._forget(lambda p: p.kind == "user" and p.user_id == user_id)

    def forget_session(self, session_id: str) -> None:
        """Drops the access tokens of one signed-in session."""
        self._forget(lambda p: p.session_id == session_id)

    def forget_agent(self, agent_id: str) -> None:
        """Drops the token of agent ``agent_id``."""
        self._forget(lambda p: p.kind == "agent" and p.agent_id == agent_id)

    def _forget(self, matches: Callable[[Principal], bool]) -> None:
        with self._lock:
            self._generation += 1
            for digest in [d for d, e in self._entries.items() if matches(e.principal)]:
                del self._entries[digest]
