"""Webhooks people subscribe: add (the address checked, a secret made and shown once), list
with their recent deliveries, remove. Sending is ``notifications.Notifier``."""

from __future__ import annotations

import json
import logging
from typing import Any

from common.errors import Conflict, Forbidden, NotFound
from common.models import Delivery, Webhook, WebhookCreate, WebhookCreated
from daemon.auth import Permission, Principal
from daemon.auth.webhook_rules import check_subscription, may_manage
from daemon.context import Context, to_datetime, to_optional_datetime
from daemon.storage import webhooks as hook_store
from daemon.webhooks import signing, targets

logger = logging.getLogger(__name__)

#: Deliveries listed with each webhook.
RECENT = 10


class WebhookService:
    """Subscriptions, checked against the caller's role and the address rule."""

    def __init__(self, context: Context, resolver: targets.Resolver = targets.system_resolver):
        self.ctx = context
        self.resolver = resolver

    def add(self, create: WebhookCreate, caller: Principal) -> WebhookCreated:
        """Adds a webhook owned by ``caller``; the answer holds its secret, never shown again.

        Raises:
            Forbidden: a show webhook from a role that may not add one.
            InvalidInput: ``budget.reached`` asked of a user's webhook.
            WebhookUrlRefused: an address no webhook may call (``daemon.webhooks.targets``).
            Conflict: the caller has ``[webhooks] max_per_user`` webhooks already.
        """
        if caller.user_id is None:
            raise Forbidden("Only a signed-in person may add a webhook.")
        check_subscription(caller, create)
        settings = self.ctx.settings.webhooks
        target = targets.parse_target(create.url)
        targets.resolve(target, targets.InternalHosts(settings.internal_hosts), self.resolver)
        secret = signing.new_secret()
        with self.ctx.database.transaction() as db:
            if hook_store.count_of_user(db, caller.user_id) >= settings.max_per_user:
                raise Conflict(
                    f"You have {settings.max_per_user} webhooks, the most one person may have "
                    "([webhooks] max_per_user); remove one first."
                )
            webhook_id = hook_store.insert_webhook(db, {
                "user_id": caller.user_id, "url": target.url,
                "events": json.dumps([e.value for e in create.events]),
                "format": create.format.value, "scope": create.scope.value,
                "project": create.project, "secret": secret,
                "description": create.description, "created_at": self.ctx.now(),
            })  # fmt: skip
            row = hook_store.get_webhook(db, webhook_id)
        assert row is not None
        logger.info(
            "webhook_id=%s added by %s: %s of %s to %s", webhook_id, caller.describe(),
            ",".join(e.value for e in create.events), create.project or caller.name, target.host,
        )  # fmt: skip
        return WebhookCreated.model_validate({**_fields(row, []), "secret": secret}, strict=False)

    def list_webhooks(self, caller: Principal, everyone: bool = False) -> list[Webhook]:
        """The caller's webhooks (everyone's for an admin who asks), with recent deliveries.

        Raises:
            Forbidden: ``everyone`` asked by a caller who may not see others' webhooks.
        """
        if everyone and not caller.may(Permission.WEBHOOKS_ANY):
            raise Forbidden("Only admins may list everyone's webhooks; leave out 'all'.")
        db = self.ctx.database.db
        rows = hook_store.list_webhooks(db, None if everyone else caller.user_id)
        recent = hook_store.recent(db, [row["id"] for row in rows], RECENT)
        return [
            Webhook.model_validate(_fields(row, recent[row["id"]]), strict=False) for row in rows
        ]

    def get(self, webhook_id: int, caller: Principal) -> Webhook:
        """One webhook of the caller's (any, for an admin), with its recent deliveries.

        Raises:
            NotFound: no such webhook, or one of someone else's.
        """
        db = self.ctx.database.db
        row = self._mine(hook_store.get_webhook(db, webhook_id), webhook_id, caller)
        deliveries = hook_store.recent(db, [webhook_id], RECENT)[webhook_id]
        return Webhook.model_validate(_fields(row, deliveries), strict=False)

    def remove(self, webhook_id: int, caller: Principal) -> Webhook:
        """Removes one of the caller's webhooks (any, for an admin) and its deliveries.

        Raises:
            NotFound: no such webhook, or one of someone else's.
        """
        with self.ctx.database.transaction() as db:
            row = self._mine(hook_store.get_webhook(db, webhook_id), webhook_id, caller)
            hook_store.delete_webhook(db, webhook_id)
        logger.info("webhook_id=%s removed by %s", webhook_id, caller.describe())
        return Webhook.model_validate(_fields(row, []), strict=False)

    @staticmethod
    def _mine(row: dict[str, Any] | None, webhook_id: int, caller: Principal) -> dict[str, Any]:
        # Someone else's webhook is "not found": its id tells nothing of it.
        if row is None or not may_manage(caller, row["user_id"]):
            raise NotFound(f"You have no webhook {webhook_id}; GET /api/v1/webhooks lists yours.")
        return row


def _fields(row: dict[str, Any], deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row["id"], "owner": row["owner"], "url": row["url"],
        "events": json.loads(row["events"]), "format": row["format"], "scope": row["scope"],
        "project": row["project"], "description": row["description"],
        "created_at": to_datetime(row["created_at"]),
        "deliveries": [_delivery(d) for d in deliveries],
    }  # fmt: skip


def _delivery(row: dict[str, Any]) -> Delivery:
    pending = row["state"] == "pending"
    return Delivery.model_validate({
        **row, "created_at": to_datetime(row["created_at"]),
        "next_attempt_at": to_datetime(row["next_attempt_at"]) if pending else None,
        "done_at": to_optional_datetime(row["done_at"]),
    }, strict=False)  # fmt: skip
