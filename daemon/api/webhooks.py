"""``/api/v1/webhooks``: one's own webhooks (a show's, for TDs, producers and admins), with
their recent deliveries."""

from __future__ import annotations

from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from common.models import Webhook, WebhookCreate, WebhookCreated, WebhookQuery
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services.webhooks import WebhookService
from daemon.webhooks.targets import WebhookUrlRefused

bp = ApiBlueprint("webhooks", __name__, tag="webhooks")


def webhooks() -> WebhookService:
    return services().webhooks


@bp.operation(
    "POST", "/webhooks",
    "Add a webhook: told of your jobs (or a show's) as signed JSON or a Slack message; the "
    "answer holds its signing secret, shown only once",
    body=WebhookCreate, returns=WebhookCreated, status=201,
    errors=(InvalidInput, WebhookUrlRefused, Forbidden, Conflict), permission=Permission.WEBHOOKS,
)  # fmt: skip
def add_webhook(body: WebhookCreate) -> WebhookCreated:
    return webhooks().add(body, current_principal())


@bp.operation(
    "GET", "/webhooks", "Your webhooks (everyone's for admins, with everyone=true) and how "
    "their recent deliveries went", query=WebhookQuery, returns=Webhook, returns_list=True,
    errors=(Forbidden,), permission=Permission.WEBHOOKS,
)  # fmt: skip
def list_webhooks(query: WebhookQuery) -> list[Webhook]:
    return webhooks().list_webhooks(current_principal(), everyone=query.everyone)


@bp.operation(
    "GET", "/webhooks/<int:webhook_id>", "One of your webhooks and its recent deliveries",
    returns=Webhook, errors=(NotFound,), permission=Permission.WEBHOOKS,
)  # fmt: skip
def get_webhook(webhook_id: int) -> Webhook:
    return webhooks().get(webhook_id, current_principal())


@bp.operation(
    "DELETE", "/webhooks/<int:webhook_id>", "Remove one of your webhooks (admins: anyone's)",
    returns=Webhook, errors=(NotFound,), permission=Permission.WEBHOOKS,
)  # fmt: skip
def delete_webhook(webhook_id: int) -> Webhook:
    return webhooks().remove(webhook_id, current_principal())
