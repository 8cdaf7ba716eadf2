"""Idempotency keys of submissions: a resend after a dropped connection finds the first job.

A caller names each submission with a key of its own (the ``Idempotency-Key`` header of
``POST /jobs``); the key, the hash of the request and the job are stored in the job's own
transaction (``JobService.submit``). The same key with the same request answers with the first
job and stores nothing; with another request it is refused. Keys are per caller, kept
``idempotency.keep_s`` and then forgotten by ``IdempotencyService.purge``, which APScheduler
triggers.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from common.errors import IdempotencyKeyReused
from common.models import JobSpec
from daemon.auth import Principal
from daemon.context import Context
from daemon.storage import idempotency as store
from daemon.storage.idempotency import KeptKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmissionKey:
    """A key as one caller sent it, with the hash of the request it came with."""

    caller: str
    key: str
    request_hash: str


def submission_key(
    key: str | None, caller: Principal | None, spec: JobSpec
) -> SubmissionKey | None:
    """The key of this submission, scoped to its caller; None when the caller sent none."""
    if key is None:
        return None
    who = "service" if caller is None else f"{caller.kind}:{caller.name or caller.agent_id}"
    digest = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()
    return SubmissionKey(caller=who, key=key, request_hash=digest)


def check_resend(sent: SubmissionKey, kept: KeptKey) -> None:
    """Raises ``IdempotencyKeyReused`` unless ``sent`` repeats the request the key first named.

    Raises:
        IdempotencyKeyReused: the key first came with another job.
    """
    if sent.request_hash != kept.request_hash:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {sent.key!r} already named another submission (job "
            f"{kept.job_id}). Send a new key with each new job; resend a job unchanged to get "
            "its first answer."
        )


class IdempotencyService:
    """Forgets keys older than the retention (``idempotency.keep_s``)."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def purge(self, now: float | None = None) -> int:
        """Deletes keys recorded more than ``idempotency.keep_s`` ago; returns how many."""
        now = self.ctx.now() if now is None else now
        with self.ctx.database.transaction() as db:
            purged = store.purge(db, now - self.ctx.settings.idempotency.keep_s)
        if purged:
            logger.info("Forgot %d idempotency key(s) past their retention", purged)
        return purged
