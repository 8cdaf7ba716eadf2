"""The signature of a webhook's body: HMAC-SHA256 under the webhook's secret, with the time.

``X-Cloudburst-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is the HMAC-SHA256 of
``<t>.`` followed by the body's bytes. A receiver recomputes it with the secret it was shown
once, compares in constant time, and refuses a ``t`` older than a few minutes (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Cloudburst-Signature"
EVENT_HEADER = "X-Cloudburst-Event"
DELIVERY_HEADER = "X-Cloudburst-Delivery"
"""The delivery's id: the same on every retry, so a receiver can ignore one it already has."""
#: How old a signature ``verify`` still accepts.
TOLERANCE_S = 300


def new_secret() -> str:
    """A fresh signing secret (256 random bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The value of ``X-Cloudburst-Signature`` for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, body: bytes, header: str, now: float, tolerance_s: float = TOLERANCE_S
) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` no longer than ``tolerance_s`` ago."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(
        signature(secret, body, timestamp), f"t={timestamp},v1={fields.get('v1', '')}"
    )
