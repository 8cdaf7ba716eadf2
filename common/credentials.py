"""What ``DaemonClient`` puts in ``Authorization``, and how it renews it.

``StaticToken`` is a token that does not expire (an API key, an agent's own token);
``SignedIn`` holds a user's access and refresh tokens (kept in a ``TokenStore``) and swaps
the refresh token for new ones when the daemon says the access token expired.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from common.accounts import TokenPair
from common.config import Settings
from common.token_store import TokenStore, default_store

logger = logging.getLogger(__name__)


class TokenRefresher(Protocol):
    """What credentials need of the daemon's client to renew themselves (``DaemonClient``)."""

    def refresh_tokens(self, refresh_token: str) -> TokenPair:
        """Swaps a refresh token for a new access and refresh token."""
        ...


class Credentials(Protocol):
    def bearer(self) -> str | None:
        """The token to send now, or None."""
        ...

    def refresh(self, client: TokenRefresher) -> bool:
        """Gets a new token after a 401; False when there is no way to."""
        ...


def default_credentials(settings: Settings, store: TokenStore | None = None) -> Credentials:
    """The ``token`` setting (``CLOUDBURST_TOKEN``, an API key) when set, else the tokens of
    ``cloudburst login`` for this daemon (the keyring, else a 0600 file)."""
    token = settings.token.get_secret_value()
    if token:
        return StaticToken(token)
    return SignedIn(store or default_store(), settings.daemon_url)


class StaticToken:
    """A token that is sent as it is; ``token`` may be replaced (an agent after enrolling)."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token

    def bearer(self) -> str | None:
        return self.token

    def refresh(self, client: TokenRefresher) -> bool:
        return False


class SignedIn:
    """A user's tokens for one daemon, read from and written back to ``store``."""

    def __init__(self, store: TokenStore, daemon_url: str) -> None:
        self.store = store
        self.daemon_url = daemon_url
        self._lock = threading.Lock()

    def bearer(self) -> str | None:
        tokens = self.store.load(self.daemon_url)
        return None if tokens is None else str(tokens.get("access_token") or "") or None

    def refresh(self, client: TokenRefresher) -> bool:
        with self._lock:
            tokens = self.store.load(self.daemon_url)
            if not tokens or not tokens.get("refresh_token"):
                return False
            try:
                pair = client.refresh_tokens(str(tokens["refresh_token"]))
            except Exception as exc:
                logger.info("Refreshing the access token failed: %s", exc)
                return False
            self.save(pair.model_dump(mode="json"))
            return True

    def save(self, pair: dict[str, Any]) -> None:
        self.store.save(
            self.daemon_url,
            {
                "access_token": pair["access_token"],
                "refresh_token": pair["refresh_token"],
                "user": pair.get("user", {}).get("name", ""),
            },
        )
