"""The farm as the dashboard shows it: every agent (what it has, runs and does), how many
agents do what, and the farm's history for the charts."""

from __future__ import annotations

from dataclasses import dataclass

from common.models import AgentInfo, FarmHistory, HistoryQuery
from daemon.context import Context
from daemon.services.agents import AgentService
from daemon.services.farm_history import FarmHistoryService


@dataclass(frozen=True)
class FarmView:
    """What the farm page shows."""

    agents: list[AgentInfo]
    """Each with what it has, runs now and does (``activity``)."""
    counts: dict[str, int]
    """Agents per activity (idle, busy, offline, disabled, draining, drained)."""
    history: FarmHistory


class FarmService:
    """Reads the farm; writes nothing."""

    def __init__(self, context: Context, agents: AgentService, history: FarmHistoryService) -> None:
        self.ctx = context
        self.agents = agents
        self.history = history

    def view(self, *, with_spend: bool, hours: int = 24) -> FarmView:
        """The farm now and over the last ``hours``; the shows' spend only ``with_spend``."""
        agents = self.agents.list_agents()
        counts: dict[str, int] = {}
        for agent in agents:
            counts[agent.activity] = counts.get(agent.activity, 0) + 1
        history = self.history.history(HistoryQuery(hours=hours), with_spend=with_spend)
        return FarmView(agents, counts, history)
