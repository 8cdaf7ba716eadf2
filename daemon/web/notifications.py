"""The notifications page: one's own webhooks, their latest deliveries, a form to add one (its
secret shown once, on the answer to the form) and a button to remove each.

Each form checks the CSRF token, then the API guard with the declared webhook operations, then
calls the same service methods as the JSON API.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import redirect, render_template, request, url_for
from pydantic import ValidationError

from common.errors import CloudburstError, InvalidInput
from common.models import WebhookCreate, WebhookCreated, WebhookEvent, WebhookFormat, WebhookScope
from daemon.api.guard import authorize
from daemon.auth import Permission
from daemon.container import services
from daemon.web import session
from daemon.web.blueprint import bp, page

logger = logging.getLogger(__name__)


def _page(
    error: str = "", created: WebhookCreated | None = None, status: int = 200
) -> tuple[str, int]:
    hooks = services().webhooks.list_webhooks(session.principal())
    return render_template(
        "webhooks.html", webhooks=hooks, created=created, error=error,
        events=list(WebhookEvent), formats=list(WebhookFormat),
    ), status  # fmt: skip


@bp.get("/webhooks")
@page(Permission.WEBHOOKS)
def webhooks() -> Any:
    return _page()


def _form() -> WebhookCreate:
    form = request.form
    project = form.get("project", "").strip() or None
    try:
        return WebhookCreate.model_validate(
            {
                "url": form.get("url", "").strip(), "events": form.getlist("event"),
                "format": form.get("format", "json"),
                "scope": WebhookScope.SHOW.value if project else WebhookScope.USER.value,
                "project": project, "description": form.get("description", "").strip(),
            },
            strict=False,
        )  # fmt: skip
    except ValidationError as exc:
        raise InvalidInput(
            "Give the receiver's https:// address (at most 2,000 characters) and tick at least "
            "one event."
        ) from exc


@bp.post("/webhooks")
def add_webhook() -> Any:
    """Adds a webhook; the answer is the page with its secret (shown only this once)."""
    session.check_csrf()
    try:
        authorize("POST", "/webhooks", Permission.WEBHOOKS, False, {})
        created = services().webhooks.add(_form(), session.principal())
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for("web.webhooks")), 303)
        return _page(exc.message, status=exc.status)
    logger.info("%s added webhook %s from the dashboard", session.principal().name, created.id)
    return _page(created=created, status=201)


@bp.post("/webhooks/<int:webhook_id>/remove")
def remove_webhook(webhook_id: int) -> Any:
    session.check_csrf()
    try:
        path = "/webhooks/<int:webhook_id>"
        authorize("DELETE", path, Permission.WEBHOOKS, False, {"webhook_id": webhook_id})
        services().webhooks.remove(webhook_id, session.principal())
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for("web.webhooks")), 303)
        return _page(exc.message, status=exc.status)
    return redirect(url_for("web.webhooks"), code=303)
