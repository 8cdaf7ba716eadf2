"""What a notification says: the event's facts, and the body of each format (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from common.models import WebhookEvent, WebhookFormat


@dataclass(frozen=True)
class JobFacts:
    """The job an event is about."""

    id: int
    name: str
    owner: str
    project: str
    state: str
    message: str = ""


@dataclass(frozen=True)
class Notice:
    """One event, before it is addressed to the webhooks that hear of it."""

    event: WebhookEvent
    sentence: str
    """What happened, in one sentence a person reads (without the link)."""
    project: str
    job: JobFacts | None = None
    budget: dict[str, float] | None = None
    """A ``budget.reached`` event's figures: ``budget``, ``spent``, ``committed``."""


def job_sentence(event: WebhookEvent, job: JobFacts, detail: str = "") -> str:
    """The sentence of a job's event: ``Job 12 "shot010 lighting" (show) failed: ...``."""
    what = {
        WebhookEvent.JOB_SUCCEEDED: "rendered all its frames",
        WebhookEvent.JOB_FAILED: "failed",
        WebhookEvent.JOB_NEEDS_ATTENTION: "needs attention",
    }.get(event, event.value)
    said = f'Job {job.id} "{job.name}" of {job.owner} ({job.project}) {what}'
    return f"{said}: {detail}" if detail else f"{said}."


def budget_sentence(project: str, budget: float, spent: float) -> str:
    return (
        f"The cloud budget of {project} is reached ({spent:.2f} of {budget:.2f} spent or "
        "promised): its jobs start no new cloud work until a producer raises it."
    )


def job_link(base_url: str, job_id: int) -> str:
    """The dashboard's page of the job."""
    return f"{base_url.rstrip('/')}/jobs/{job_id}"


def body(notice: Notice, form: WebhookFormat, base_url: str, now: float) -> str:
    """The body sent to a webhook of ``form`` (JSON text; the signature covers its bytes)."""
    link = job_link(base_url, notice.job.id) if notice.job is not None else None
    if form is WebhookFormat.SLACK:
        text = _slack_escape(notice.sentence)
        if link is not None:
            text += f" <{link}|Open job {notice.job.id if notice.job else ''}>"
        return json.dumps({"text": text})
    data: dict[str, Any] = {
        "event": notice.event.value,
        "at": datetime.fromtimestamp(now, UTC).isoformat(),
        "text": notice.sentence,
        "project": notice.project,
    }
    if notice.job is not None:
        job = notice.job
        data["job"] = {
            "id": job.id, "name": job.name, "owner": job.owner, "project": job.project,
            "state": job.state, "message": job.message, "url": link,
        }  # fmt: skip
    if notice.budget is not None:
        data["budget"] = notice.budget
    return json.dumps(data)


def _slack_escape(text: str) -> str:
    """Slack reads ``<``, ``>`` and ``&`` as markup; a job's name must not make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
