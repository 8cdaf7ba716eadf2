"""A TD's hand on nodes: disable (lease nothing new; what runs goes on), drain (finish what runs,
then lease nothing) and enable again.

The lease honours it in its query (``storage/queue.py``: a node that is not enabled has no
candidate job); the agent keeps polling and is answered 204 until a TD enables it. A node's
control outlives its registrations and restarts.
"""

from __future__ import annotations

import logging

from common.errors import NotFound
from common.models import AgentControl, AgentInfo
from daemon.context import Context
from daemon.services.agent_info import load_agent_info
from daemon.storage import agents as agent_store

logger = logging.getLogger(__name__)


class NodeControl:
    """Sets what TDs decide of a node; each call is one transaction."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def set(self, agent_id: str, control: AgentControl, by: str) -> AgentInfo:
        """Enables, disables or drains node ``agent_id`` (``by``: who); setting the control a
        node has already is harmless.

        Raises:
            NotFound: there is no such agent.
        """
        with self.ctx.database.transaction() as db:
            if not agent_store.set_control(db, agent_id, control, by, self.ctx.now()):
                raise NotFound(f"There is no agent {agent_id}; GET /api/v1/agents lists them.")
            info = load_agent_info(db, self.ctx.settings, agent_id)
        logger.info("agent_id=%s (%s) set to %s by %s", agent_id, info.name, control, by)
        return info
