"""The wait the lease's 204 answer tells an idle agent (``X-Poll-Interval``), from a count of
the live agents read at most every ``RECOUNT_S`` seconds, not once per lease call."""

from __future__ import annotations

import random
from collections.abc import Callable

from daemon.context import Context
from daemon.scheduling.idle_wait import idle_wait
from daemon.storage import agents as agent_store

RECOUNT_S = 5.0
"""How old the count of live agents may get."""


class IdleWait:
    """How long an idle agent should wait before asking again (any request thread)."""

    def __init__(self, context: Context, spread: Callable[[], float] | None = None) -> None:
        self.ctx = context
        self.spread = spread or (lambda: random.uniform(-1.0, 1.0))
        self._live = 0
        self._counted_at: float | None = None

    def live_agents(self) -> int:
        """The agents online, as counted at most ``RECOUNT_S`` seconds ago. Two threads may
        count at once: both store a true count."""
        now = self.ctx.now()
        if self._counted_at is None or now - self._counted_at >= RECOUNT_S:
            self._live = agent_store.count_online(self.ctx.database.db)
            self._counted_at = now
        return self._live

    def seconds(self) -> float:
        settings = self.ctx.settings
        return idle_wait(
            self.live_agents(),
            poll_interval_s=settings.poll_interval_s,
            polls_per_s=settings.agents.idle_polls_per_s,
            max_poll_interval_s=settings.agents.max_poll_interval_s,
            offline_after_s=min(settings.lease_ttl_s, settings.cloud.heartbeat_timeout_s),
            spread=self.spread(),
        )
