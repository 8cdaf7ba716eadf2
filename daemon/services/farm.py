"""The farm as the dashboard shows it: every agent, what each one runs now, and how many agents
are in each state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.models import AgentInfo
from daemon.context import Context
from daemon.services.agents import AgentService
from daemon.storage.dashboard import running_by_agent


@dataclass(frozen=True)
class FarmView:
    """What the farm page shows."""

    agents: list[AgentInfo]
    running: dict[str, list[dict[str, Any]]]
    """The leased and running tasks of each agent, by agent id."""
    counts: dict[str, int]
    """Agents in each state."""


class FarmService:
    """Reads the farm; writes nothing."""

    def __init__(self, context: Context, agents: AgentService) -> None:
        self.ctx = context
        self.agents = agents

    def view(self) -> FarmView:
        agents = self.agents.list_agents()
        counts: dict[str, int] = {}
        for agent in agents:
            counts[agent.state] = counts.get(agent.state, 0) + 1
        return FarmView(agents, running_by_agent(self.ctx.database.db), counts)
