"""Who may subscribe what, as pure functions: one's own jobs, a show's, anyone's webhooks."""

from __future__ import annotations

import logging

from common.accounts import Role
from common.errors import Forbidden, InvalidInput
from common.models import WebhookCreate, WebhookEvent, WebhookScope
from daemon.auth.principal import Principal
from daemon.auth.roles import Permission, permissions_of

logger = logging.getLogger(__name__)


def check_subscription(caller: Principal, create: WebhookCreate) -> None:
    """Anyone signed in may be told of their own jobs; only TDs, producers and admins of a
    whole show's (its jobs, whoever owns them, and its cloud budget).

    Raises:
        Forbidden: a show webhook from a caller whose role may not add one.
        InvalidInput: ``budget.reached`` asked of a webhook that is not a show's.
    """
    if create.scope is WebhookScope.SHOW and not caller.may(Permission.WEBHOOKS_SHOWS):
        logger.warning("%s refused: a webhook of show %r", caller.describe(), create.project)
        raise Forbidden(
            f"Your role ({caller.role}) cannot subscribe a whole show; TDs, producers and "
            'admins can. Subscribe to your own jobs instead (scope "user").'
        )
    if create.scope is WebhookScope.USER and WebhookEvent.BUDGET_REACHED in create.events:
        raise InvalidInput(
            'budget.reached is a show\'s event; subscribe the show (scope "show" and its '
            "project) to hear of its budget, or leave the event out."
        )


def still_hears(scope: WebhookScope, owner_role: Role) -> bool:
    """Whether a webhook's owner may still hear what it subscribes (checked at each event:
    a producer made an artist stops hearing of the show)."""
    if scope is WebhookScope.SHOW:
        return Permission.WEBHOOKS_SHOWS in permissions_of(owner_role)
    return Permission.WEBHOOKS in permissions_of(owner_role)


def may_manage(caller: Principal, owner_id: int) -> bool:
    """Whether ``caller`` may see and remove a webhook of the user ``owner_id``."""
    return caller.user_id == owner_id or caller.may(Permission.WEBHOOKS_ANY)
