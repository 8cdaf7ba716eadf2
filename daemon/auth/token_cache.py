"""Who recently checked bearer tokens stand for, kept a few seconds so a busy agent's token is
not hashed and looked up in SQLite on every request.

Keyed by the token's hash (never the token), bounded (the least recently used entry goes
first), and only for tokens that were valid: a bad token is always checked in full. An entry
lives ``ttl_s`` at most, never past the expiry of the token itself, and never when the clock
went back since it was stored.

Revoking drops the entries at once in this process (``forget_user``, ``forget_session``,
``forget_agent``, called after the revocation commits) and marks the data folder's revocation
file (``revocations.py``), on which every other process of the daemon drops its whole cache
before its next answer. A lookup that ran while a revocation committed may have read the old
rows: ``put`` refuses what a lookup started before the last revocation found (the generation
counter; the mark counts as one), so a revoked principal is never stored after its revocation.
Were the mark lost (a file that cannot be written), ``ttl_s`` bounds how long another process
still accepts the token; a mark that cannot be read keeps nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common.config import AuthSettings
from daemon.auth.principal import Principal
from daemon.auth.revocations import RevocationMark, Stamp


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    stored_at: float
    expires_at: float


class CredentialCache:
    """Principals by token hash, for at most ``ttl_s`` seconds (0: nothing is kept)."""

    def __init__(
        self,
        ttl_s: float,
        max_entries: int,
        clock: Callable[[], float],
        mark: RevocationMark | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.mark = mark
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._generation = 0
        self._stamp: Stamp | object = object()  # not read yet: the first look drops nothing
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> Principal | None:
        """The principal stored for ``digest``, if still fresh and nothing was revoked since."""
        if self.ttl_s <= 0:
            return None
        now = self._clock()
        with self._lock:
            if not self._up_to_date():
                return None
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
            if not self._up_to_date() or generation != self._generation:
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
        if self.mark is not None:
            self.mark.mark()

    def _up_to_date(self) -> bool:
        """Drops everything when another process (or this one) marked a revocation since the
        last look; False (keep nothing) when the mark cannot be read. Under ``_lock``."""
        if self.mark is None:
            return True
        stamp: Stamp | object
        try:
            stamp = self.mark.stamp()
        except OSError:
            stamp = object()  # unknown: never equal, so nothing is kept
        if stamp != self._stamp:
            self._entries.clear()
            self._generation += 1
            self._stamp = stamp
        return isinstance(stamp, tuple) or stamp is None


def credential_cache(
    settings: AuthSettings, data_dir: Path, clock: Callable[[], float]
) -> CredentialCache:
    """The cache of one daemon process, or of a command that changes accounts from outside
    it (which never keeps an entry but marks its revocations for the daemon's processes)."""
    return CredentialCache(
        settings.token_cache_ttl_s, settings.token_cache_max_entries, clock,
        RevocationMark(data_dir),
    )  # fmt: skip
