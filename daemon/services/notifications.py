"""Notifications: events put in the webhooks' outbox, and the delivery that empties it.

An event (a job succeeded or failed, needs attention, a show's cloud budget is reached) is
put in the ``webhook_deliveries`` outbox by the functions below, inside the transaction of the
change that caused it, once for each webhook that hears of it: its owner's jobs, or its show.
``Notifier.deliver``, triggered by APScheduler (called by tests), sends what is due outside any
transaction, each POST signed (``daemon.webhooks.signing``) and with a timeout; a 2xx is done,
an error, a timeout, a 5xx or a 429 is tried again with a doubling wait up to ``[webhooks]
max_attempts``, then dropped with a log line; another answer (4xx, a redirect) is dropped at
once. The outbox holds at most ``[webhooks] outbox_max`` pending deliveries: beyond, new ones
are dropped and logged, so a dead receiver cannot fill the daemon's disk.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from common.accounts import Role
from common.config import Settings
from common.models import DeliveryState, WebhookEvent, WebhookFormat, WebhookScope
from common.states import JobState
from daemon.auth.webhook_rules import still_hears
from daemon.context import Context
from daemon.scheduling.budget import ShowBudget
from daemon.storage import webhooks as hook_store
from daemon.webhooks import messages, policy, sender, signing, targets
from daemon.webhooks.messages import JobFacts, Notice

logger = logging.getLogger(__name__)

Post = Callable[[targets.Target, str, bytes, dict[str, str], float], sender.Answer]

ENDED = {JobState.SUCCEEDED: WebhookEvent.JOB_SUCCEEDED, JobState.FAILED: WebhookEvent.JOB_FAILED}


# --- events, inside the transaction of the change -----------------------------------------


def job_moved(
    db: sqlite_utils.Database, settings: Settings, job_id: int, target: JobState, now: float
) -> int:
    """Tells of a job that succeeded or failed (after its row moved)."""
    event = ENDED.get(target)
    row = None if event is None else hook_store.job_facts(db, job_id)
    if event is None or row is None:
        return 0
    facts = _facts(row, target)
    detail = facts.message if event is WebhookEvent.JOB_FAILED else ""
    sentence = messages.job_sentence(event, facts, detail)
    return notify(db, settings, Notice(event, sentence, facts.project, job=facts), now)


def job_needs_attention(
    db: sqlite_utils.Database, settings: Settings, job_id: int, detail: str, now: float
) -> int:
    """Tells that a job needs someone (a task failed for good, a node failing it turned
    suspect, a job it waits for ended badly); at most once in ``attention_quiet_s``."""
    event = WebhookEvent.JOB_NEEDS_ATTENTION
    quiet = settings.webhooks.attention_quiet_s
    if quiet and hook_store.told_since(db, job_id, event.value, now - quiet):
        return 0
    row = hook_store.job_facts(db, job_id)
    if row is None:
        return 0
    facts = _facts(row, JobState(row["state"]))
    sentence = messages.job_sentence(event, facts, detail)
    return notify(db, settings, Notice(event, sentence, facts.project, job=facts), now)


def budgets_checked(
    db: sqlite_utils.Database,
    settings: Settings,
    reached: dict[str, ShowBudget],
    room: set[str],
    now: float,
) -> int:
    """Tells the shows whose spent cloud budget a burst pass found holding work back
    (``reached``), once until their budget has ``room`` again (then may be told anew)."""
    told = hook_store.budget_alerted(db)
    hook_store.clear_budget_alerts(db, sorted(told & room))
    told -= room
    sent = 0
    for project, show in sorted(reached.items()):
        if project in told:
            continue
        hook_store.mark_budget_alerted(db, project, now)
        spent = show.spent + show.committed
        notice = Notice(
            WebhookEvent.BUDGET_REACHED, messages.budget_sentence(project, show.budget, spent),
            project,
            budget={"budget": show.budget, "spent": show.spent, "committed": show.committed},
        )  # fmt: skip
        sent += notify(db, settings, notice, now)
    return sent


def notify(db: sqlite_utils.Database, settings: Settings, notice: Notice, now: float) -> int:
    """Puts ``notice`` in the outbox for each webhook that hears of it; returns how many."""
    if notice.job is not None:
        hooks = hook_store.subscribers(db, notice.job.owner, notice.project)
    else:
        hooks = hook_store.show_subscribers(db, notice.project)
    hearing = [
        hook for hook in hooks
        if notice.event.value in json.loads(hook["events"])
        and still_hears(WebhookScope(hook["scope"]), Role(hook["owner_role"]))
    ]  # fmt: skip
    if not hearing:
        return 0
    room = settings.webhooks.outbox_max - hook_store.pending_count(db)
    if room < len(hearing):
        logger.warning(
            "webhook outbox full (%d pending, [webhooks] outbox_max): %s of %s not sent to %d "
            "webhook(s)", settings.webhooks.outbox_max - room, notice.event.value,
            notice.project, len(hearing) - max(0, room),
        )  # fmt: skip
        hearing = hearing[: max(0, room)]
    base = settings.webhooks.public_url or settings.daemon_url
    for hook in hearing:
        hook_store.enqueue(db, {
            "webhook_id": hook["id"], "event": notice.event.value,
            "job_id": notice.job.id if notice.job else None, "project": notice.project,
            "body": messages.body(notice, WebhookFormat(hook["format"]), base, now),
            "created_at": now,
        })  # fmt: skip
    return len(hearing)


def _facts(row: dict[str, Any], state: JobState) -> JobFacts:
    return JobFacts(
        id=row["id"], name=row["name"], owner=row["owner"], project=row["project"],
        state=state.value, message=row.get("message") or "",
    )  # fmt: skip


# --- delivery, on the scheduler's thread ----------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dropped: int = 0


class Notifier:
    """Sends the outbox's due deliveries. ``deliver`` runs on one thread at a time (the
    scheduler's); it holds no transaction while it waits for a receiver."""

    def __init__(
        self,
        context: Context,
        resolver: targets.Resolver = targets.system_resolver,
        post: Post = sender.post,
    ) -> None:
        self.ctx = context
        self.resolver = resolver
        self.post = post

    def deliver(self, now: float | None = None, limit: int = 50) -> DeliveryReport:
        """Sends what is due, oldest first; forgets deliveries ended ``keep_s`` ago."""
        now = self.ctx.now() if now is None else now
        settings = self.ctx.settings.webhooks
        counts = {state: 0 for state in DeliveryState}
        for item in hook_store.due(self.ctx.database.db, now, limit):
            try:
                answer = self._send(item, now)
            except Exception as exc:  # a bug must not block the outbox: the try is counted
                logger.exception("webhook_id=%s delivery %s", item["webhook_id"], item["id"])
                answer = sender.Answer(status=None, error=f"{type(exc).__name__}: {exc}")
            attempts = item["attempts"] + 1
            after = policy.after_try(answer.status, attempts, settings, now)
            with self.ctx.database.transaction() as db:
                hook_store.record_try(
                    db, item["id"], state=after.state.value, status=answer.status,
                    error=answer.error, next_attempt_at=after.next_attempt_at, now=now,
                )  # fmt: skip
            counts[after.state] += 1
            self._log(item, answer, attempts, after, now)
        with self.ctx.database.transaction() as db:
            hook_store.purge(db, now - settings.keep_s)
        return DeliveryReport(
            delivered=counts[DeliveryState.DELIVERED], retrying=counts[DeliveryState.PENDING],
            dropped=counts[DeliveryState.DROPPED],
        )  # fmt: skip

    def _send(self, item: dict[str, Any], now: float) -> sender.Answer:
        settings = self.ctx.settings.webhooks
        try:  # checked again here: the name may resolve elsewhere now, or IT changed the rule
            target = targets.parse_target(item["url"])
            address = targets.resolve(
                target, targets.InternalHosts(settings.internal_hosts), self.resolver
            )
        except targets.WebhookUrlRefused as exc:
            return sender.Answer(status=None, error=exc.message)
        body = item["body"].encode()
        headers = {
            signing.SIGNATURE_HEADER: signing.signature(item["secret"], body, int(now)),
            signing.EVENT_HEADER: item["event"],
            signing.DELIVERY_HEADER: str(item["id"]),
        }
        return self.post(target, address, body, headers, settings.timeout_s)

    @staticmethod
    def _log(
        item: dict[str, Any],
        answer: sender.Answer,
        attempts: int,
        after: policy.AfterTry,
        now: float,
    ) -> None:
        said = answer.status if answer.status is not None else answer.error
        where = f"webhook_id={item['webhook_id']} delivery {item['id']} ({item['event']}"
        where += f", job_id={item['job_id']})" if item["job_id"] is not None else ")"
        if after.state is DeliveryState.DELIVERED:
            logger.info("%s delivered", where)
        elif after.state is DeliveryState.PENDING:
            logger.warning("%s failed (try %d: %s); trying again in %.0f s", where, attempts,
                           said, after.next_attempt_at - now)  # fmt: skip
        else:
            logger.warning("%s dropped after %d try(s): %s", where, attempts, said)
