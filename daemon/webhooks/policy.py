"""What one try's answer means for a delivery: sent, tried again later, or given up (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from common.models import DeliveryState
from common.webhook_settings import WebhookSettings


@dataclass(frozen=True)
class AfterTry:
    state: DeliveryState
    next_attempt_at: float
    """When it is tried again (``now`` when it ended)."""


def retryable(status: int | None) -> bool:
    """No answer, a 5xx, a 429 (slow down) or a 408 (timeout) may pass; other 4xx and 3xx
    (webhooks follow no redirect) will not."""
    return status is None or status >= 500 or status in (408, 429)


def after_try(status: int | None, attempts: int, settings: WebhookSettings, now: float) -> AfterTry:
    """The delivery's state after its ``attempts``-th try answered ``status`` (None: no
    answer: an error or a timeout)."""
    if status is not None and 200 <= status < 300:
        return AfterTry(DeliveryState.DELIVERED, now)
    if not retryable(status) or attempts >= settings.max_attempts:
        return AfterTry(DeliveryState.DROPPED, now)
    wait = min(settings.retry_base_s * 2 ** (attempts - 1), settings.retry_max_s)
    return AfterTry(DeliveryState.PENDING, now + wait)
