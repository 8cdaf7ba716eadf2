"""Opaque tokens (refresh, API keys, enrollment, agents), their hashes and the signing key."""

from __future__ import annotations

import hashlib
import logging
import secrets
from pathlib import Path

from common.private_files import make_private, write_private

__all__ = [
    "AGENT_PREFIX", "API_KEY_PREFIX", "CONNECTION_PREFIX", "DESKTOP_PREFIX", "ENROLLMENT_PREFIX",
    "REFRESH_PREFIX", "SIGNING_KEY_FILE",
    "bearer_token", "make_private", "new_token", "signing_key", "token_hash", "write_private",
]  # fmt: skip

logger = logging.getLogger(__name__)

SIGNING_KEY_FILE = "auth-signing.key"

REFRESH_PREFIX = "cbr_"
API_KEY_PREFIX = "cbk_"
ENROLLMENT_PREFIX = "cbe_"
AGENT_PREFIX = "cba_"
DESKTOP_PREFIX = "cbs_"
"""A desktop session's own secret: its desktop agent reports and redeems with it."""
CONNECTION_PREFIX = "cbc_"
"""A one-time connection token the broker hands a session's user."""


def new_token(prefix: str) -> str:
    """A fresh random token; the prefix says what kind it is."""
    return prefix + secrets.token_urlsafe(32)


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; empty without one (no header,
    another scheme, or nothing after it)."""
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def token_hash(token: str) -> str:
    """What the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def signing_key(data_dir: Path) -> str:
    """The HS256 key of access tokens: made on first start, kept 0600 in the data folder."""
    path = data_dir / SIGNING_KEY_FILE
    if not path.exists():
        write_private(path, secrets.token_hex(32))
        logger.info("Made a new token signing key in %s", path)
    make_private(path)  # a key written by an older version may be 0644
    return path.read_text(encoding="utf-8").strip()
