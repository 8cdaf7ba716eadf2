"""The agent's identity: the enrollment token it registers with once, then its own token.

The agent token lives in the state folder (``agent-token``, 0600), so a restarted agent
registers again as itself without a new enrollment token.
"""

from __future__ import annotations

import logging
from pathlib import Path

from common.credentials import StaticToken
from common.models import AgentInfo, AgentRegistration
from common.private_files import make_private, write_private

logger = logging.getLogger(__name__)

TOKEN_FILE = "agent-token"


class AgentIdentity:
    """Holds the token the agent's clients send; shared by them (``credentials``)."""

    def __init__(self, state_dir: Path, enrollment_token: str = "") -> None:
        self.path = state_dir / TOKEN_FILE
        self.enrollment_token = enrollment_token
        make_private(self.path)  # one kept by an older version may be 0644
        saved = self.path.read_text(encoding="utf-8").strip() if self.path.exists() else ""
        self.credentials = StaticToken(saved or None)

    def registration(self, registration: AgentRegistration) -> AgentRegistration:
        """What to register with: the enrollment token only while the agent has no own token."""
        if self.credentials.token or not self.enrollment_token:
            return registration
        return registration.model_copy(update={"enrollment_token": self.enrollment_token})

    def forget(self) -> bool:
        """Drops a kept token the daemon no longer knows, when an enrollment token can replace
        it; False when there is nothing to fall back on."""
        if not (self.credentials.token and self.enrollment_token):
            return False
        logger.warning("The daemon does not know this agent's token; enrolling again")
        self.path.unlink(missing_ok=True)
        self.credentials.token = None
        return True

    def accept(self, info: AgentInfo) -> None:
        """Keeps the token a first registration returned (0600) and uses it from now on."""
        if not info.token:
            return
        write_private(self.path, info.token + "\n")
        self.credentials.token = info.token
        logger.info("agent %s: enrolled; its token is kept in %s", info.id, self.path)
