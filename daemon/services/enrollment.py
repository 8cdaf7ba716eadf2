"""Agent identities: one-time enrollment tokens, and registering with them."""

from __future__ import annotations

import logging
import uuid

from common.accounts import EnrollmentToken
from common.errors import Forbidden, Unauthenticated
from common.models import AgentInfo, AgentRegistration
from daemon.auth import Permission, Principal
from daemon.auth.keys import AGENT_PREFIX, ENROLLMENT_PREFIX, new_token, token_hash
from daemon.auth.token_cache import CredentialCache
from daemon.context import Context, to_datetime
from daemon.services.agent_info import load_agent_info
from daemon.storage import agents as agent_store
from daemon.storage import enrollment as token_store

logger = logging.getLogger(__name__)


class EnrollmentService:
    """Mints enrollment tokens and turns them into agent identities; ``credentials`` (the
    daemon's cache of checked tokens) is told when an agent's identity changes."""

    def __init__(self, context: Context, credentials: CredentialCache) -> None:
        self.ctx = context
        self.credentials = credentials

    def mint(self, by: str) -> EnrollmentToken:
        """A token one agent can register with once, before it expires."""
        now = self.ctx.now()
        expires = now + self.ctx.settings.auth.enrollment_ttl_s
        token = new_token(ENROLLMENT_PREFIX)
        with self.ctx.database.transaction() as db:
            token_store.insert_enrollment(db, token_hash(token), by, now, expires)
        logger.info("enrollment token minted by %s", by)
        return EnrollmentToken(token=token, expires_at=to_datetime(expires))

    def register(self, registration: AgentRegistration, caller: Principal) -> AgentInfo:
        """Registers an agent.

        An agent with its own token registers again as itself (no new token). Otherwise a new
        agent identity is made, with its token in the answer, for a valid unused enrollment
        token or for a caller allowed to manage agents.

        Raises:
            Unauthenticated: no enrollment token, or one that is unknown, used or expired.
        """
        now = self.ctx.now()
        clean = registration.model_copy(update={"enrollment_token": None})
        if caller.kind == "agent" and caller.agent_id is not None:
            with self.ctx.database.transaction() as db:
                agent_store.update_agent(db, caller.agent_id, clean, now)
                info = load_agent_info(db, self.ctx.settings, caller.agent_id)
            self.credentials.forget_agent(caller.agent_id)  # its principal names it anew
            logger.info("agent_id=%s registered again as %s", caller.agent_id, clean.name)
            return info
        agent_id = uuid.uuid4().hex
        token = new_token(AGENT_PREFIX)
        with self.ctx.database.transaction() as db:
            if not caller.may(Permission.AGENTS_MANAGE):
                given = registration.enrollment_token
                if not given or not token_store.use_enrollment(
                    db, token_hash(given), agent_id, now
                ):
                    logger.warning("agent %r refused: bad enrollment token", registration.name)
                    if caller.kind == "user":
                        raise Forbidden(
                            f"As {caller.role} you cannot register agents without a valid "
                            "enrollment token; a TD or admin can."
                        )
                    raise Unauthenticated(
                        "This agent needs a valid enrollment token (--enrollment-token or "
                        "CLOUDBURST_ENROLLMENT_TOKEN); that one is missing, unknown, used or "
                        "expired. A TD mints one with `POST /api/v1/agents/enrollment-tokens`."
                    )
            agent_store.insert_agent(db, agent_id, clean, now)
            token_store.set_agent_token(db, agent_id, token_hash(token))
            info = load_agent_info(db, self.ctx.settings, agent_id)
        logger.info("agent_id=%s enrolled as %s on %s", agent_id, info.name, info.hostname)
        return info.model_copy(update={"token": token})
