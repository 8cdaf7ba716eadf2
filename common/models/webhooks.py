"""Wire models of notifications: webhooks people subscribe, and their recent deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from common.models.base import Name, WireModel

#: The longest webhook address the daemon keeps.
MAX_URL = 2000


class WebhookEvent(StrEnum):
    """What a webhook may be told of."""

    JOB_SUCCEEDED = "job.succeeded"
    """A job rendered all its frames."""
    JOB_FAILED = "job.failed"
    """A job failed (its failed tasks passed what it allows)."""
    JOB_NEEDS_ATTENTION = "job.needs_attention"
    """A job needs someone: a task failed for good, a node failing it was marked suspect, or
    a job it waits for failed or was cancelled."""
    BUDGET_REACHED = "budget.reached"
    """A show's cloud budget is spent: its jobs start no new cloud work (a show's event)."""


class WebhookFormat(StrEnum):
    """The body a webhook receives."""

    JSON = "json"
    """The event as JSON (``event``, ``text``, ``job``...), for programs."""
    SLACK = "slack"
    """``{"text": "..."}``: what Slack's, Mattermost's and Teams' incoming webhooks take."""


class WebhookScope(StrEnum):
    """Whose events a webhook receives."""

    USER = "user"
    """The events of its owner's jobs."""
    SHOW = "show"
    """The events of one show's jobs, and its budget (TDs, producers and admins add them)."""


class DeliveryState(StrEnum):
    """Where one delivery of one event to one webhook stands."""

    PENDING = "pending"
    """Waiting for its first try, or for its next after a failure."""
    DELIVERED = "delivered"
    """The receiver answered 2xx."""
    DROPPED = "dropped"
    """Given up: the receiver refused it (4xx), or every try failed."""


Events = Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(WebhookEvent))]


class WebhookCreate(WireModel):
    """Body of ``POST /api/v1/webhooks``."""

    url: Annotated[str, Field(min_length=1, max_length=MAX_URL)]
    """``https://`` (or ``http://``) address the daemon POSTs to."""
    events: Events
    format: WebhookFormat = WebhookFormat.JSON
    scope: WebhookScope = WebhookScope.USER
    project: Name | None = None
    """The show of a ``show`` webhook; none for a ``user`` one."""
    description: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _scope_names_show(self) -> WebhookCreate:
        if (self.scope is WebhookScope.SHOW) != (self.project is not None):
            raise ValueError("a show webhook names its project, and only a show webhook does")
        if len(set(self.events)) != len(self.events):
            raise ValueError("each event is listed once")
        return self


class Delivery(WireModel):
    """One event sent (or to be sent) to a webhook."""

    id: int
    event: WebhookEvent
    job_id: int | None = None
    state: DeliveryState
    attempts: int
    last_status: int | None = None
    """The receiver's last HTTP status; none when it never answered."""
    last_error: str = ""
    created_at: datetime
    next_attempt_at: datetime | None = None
    """When it is tried again (pending deliveries)."""
    done_at: datetime | None = None


class Webhook(WireModel):
    """A webhook as its owner sees it (never its secret)."""

    id: int
    owner: str
    url: str
    events: list[WebhookEvent]
    format: WebhookFormat
    scope: WebhookScope
    project: str | None = None
    description: str = ""
    created_at: datetime
    deliveries: list[Delivery] = Field(default_factory=list)
    """The most recent deliveries, newest first."""


class WebhookCreated(Webhook):
    """The answer to ``POST /api/v1/webhooks``: the webhook and its signing secret, shown once.

    Receivers check ``X-Cloudburst-Signature: t=<unix time>,v1=<hex>``, the HMAC-SHA256 of
    ``<t>.<body>`` under this secret, and refuse old ``t`` (replays)."""

    secret: str


class WebhookQuery(WireModel):
    """Query of ``GET /api/v1/webhooks``."""

    everyone: bool = False
    """Everyone's webhooks, not only one's own (admins)."""
