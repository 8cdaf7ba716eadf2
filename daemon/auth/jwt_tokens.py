"""Short-lived access tokens: HS256 JWTs checked against the daemon's clock, not the host's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from common.errors import Unauthenticated

ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    expires_at: float


def issue(key: str, user_id: int, name: str, session_id: str, now: float, ttl: float) -> str:
    """A signed access token for ``user_id`` in ``session_id``, valid ``ttl`` seconds."""
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "name": name,
        "sid": session_id,
        "iat": int(now),
        "exp": int(now + ttl),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(key: str, token: str, now: float) -> AccessClaims:
    """The claims of a token this daemon signed and that has not expired at ``now``.

    Raises:
        Unauthenticated: forged (wrong key, another algorithm, ``none``), malformed or expired.
    """
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                     "require": ["sub", "sid", "exp", "typ"]},
        )  # fmt: skip
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"The access token is not valid ({exc}). Sign in again.") from None
    if claims.get("typ") != "access":
        raise Unauthenticated("That token is not an access token. Sign in again.")
    if float(claims["exp"]) <= now:
        raise Unauthenticated("The access token has expired; refresh it or sign in again.")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthenticated("The access token names no user. Sign in again.") from None
    return AccessClaims(user_id=user_id, session_id=str(claims["sid"]), expires_at=claims["exp"])
