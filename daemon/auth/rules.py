"""Rules on top of roles, as pure functions: who may own what they submit."""

from __future__ import annotations

import logging

from common.errors import Forbidden
from daemon.auth.principal import Principal
from daemon.auth.roles import Permission

logger = logging.getLogger(__name__)


def check_owner(caller: Principal | None, owner: str) -> None:
    """A person submits as themselves; only TDs and admins may name another owner.

    Raises:
        Forbidden: ``owner`` is someone else and the caller may not submit for others.
    """
    if caller is None or caller.kind != "user" or owner == caller.name:
        return
    if caller.may(Permission.JOBS_SUBMIT_AS_OTHER):
        return
    logger.warning("%s refused: submit as %r", caller.describe(), owner)
    raise Forbidden(
        f"You are signed in as {caller.name!r} and cannot submit a job owned by {owner!r}; "
        "only TDs and admins can."
    )
