"""The ``[agents]`` table: how often render nodes talk to the daemon, and how it groups what
they say into few transactions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AgentProtocolSettings(BaseModel):
    """The ``[agents]`` table of the settings (the daemon's side of the agent protocol)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    update_interval_s: float = Field(default=3.0, ge=0.5, le=5.0)
    """A rendering agent sends one update (heartbeat, progress, log lines) this often; what
    the dashboard shows is never further behind the render."""
    idle_polls_per_s: float = Field(default=200.0, gt=0)
    """Lease polls per second the idle agents of the whole farm may make together: an idle
    agent waits ``live agents / idle_polls_per_s`` seconds (at least ``poll_interval_s``)."""
    max_poll_interval_s: float = Field(default=15.0, gt=0)
    """The longest an idle agent is told to wait; never more than half of ``lease_ttl_s``, so
    an agent waiting that long never shows offline."""
    keep_alive: bool = False
    """Whether protocol-2 agents keep their connection open between calls. Off: each call (one
    every few seconds) brings its own connection, because the daemon's server looks at every
    open connection on each turn of its loop, and thousands of idle ones cost it more than a
    connection per call (docs/performance.md, "A farm's chatter")."""
    commit_interval_s: float = Field(default=0.05, ge=0.005, le=1.0)
    """The daemon writes agents' heartbeats, progress and log lines in one transaction this
    often (a group commit), not one per request."""
    fast_bind: str = ""
    """``HOST:PORT`` where every serving process also answers the agents' busiest calls
    (update, lease, complete, fail) on a lean server, announced to protocol-2 agents as
    ``fast_url`` (they go back to the daemon's main address while it does not answer). Empty:
    off, agents send everything to ``bind``. See docs/performance.md, "A farm's chatter"."""
