"""Use cases of the daemon: one function per thing a caller can ask for.

Services own transactions and translate between storage rows and wire models; the HTTP layer
calls exactly one service method per request, and APScheduler only triggers service calls.
"""

from daemon.services.agents import AgentService
from daemon.services.jobs import JobService
from daemon.services.ranking import RankingService
from daemon.services.reaper import Reaper

__all__ = ["AgentService", "JobService", "RankingService", "Reaper"]
