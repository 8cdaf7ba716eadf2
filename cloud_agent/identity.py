"""The agent's identity: the enrollment token it registers with once, then its own token.

The agent token lives in the state folder (``agent-token``, 0600), so a restarted agent
registers again as itself without a new enrollment token.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from common.credentials import StaticToken
from common.models import AgentInfo, AgentRegistration

logger = logging.getLogger(__name__)

TOKEN_FILE = "agent-token"


class AgentIdentity:
    """Holds the token the agent's clients send; shared by them (``credentials``)."""

    def __init__(self, state_dir: Path, enrollment_token: str = "") -> None:
        self.path = state_dir / TOKEN_FILE
        self.enrollment_token = enrollment_token
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(TOKEN_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(info.token + "\n")
        os.replace(tmp, self.path)
        self.credentials.token = info.token
        logger.info("agent %s: enrolled; its token is kept in %s", info.id, self.path)
