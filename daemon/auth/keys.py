"""Opaque tokens (refresh, API keys, enrollment, agents), their hashes and the signing key."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

logger = logging.getLogger(__name__)

SIGNING_KEY_FILE = "auth-signing.key"

REFRESH_PREFIX = "cbr_"
API_KEY_PREFIX = "cbk_"
ENROLLMENT_PREFIX = "cbe_"
AGENT_PREFIX = "cba_"


def new_token(prefix: str) -> str:
    """A fresh random token; the prefix says what kind it is."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def write_private(path: Path, text: str) -> None:
    """Writes ``text`` to a new file readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def signing_key(data_dir: Path) -> str:
    """The HS256 key of access tokens: made on first start, kept 0600 in the data folder."""
    path = data_dir / SIGNING_KEY_FILE
    if not path.exists():
        write_private(path, secrets.token_hex(32))
        logger.info("Made a new token signing key in %s", path)
    return path.read_text(encoding="utf-8").strip()
