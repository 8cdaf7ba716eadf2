"""Where the CLI and the panels keep a user's tokens: the OS keyring, else a 0600 file."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from common.private_files import write_private

logger = logging.getLogger(__name__)

SERVICE = "cloudburst"
TOKEN_FILE = "tokens.json"


class TokenStore(Protocol):
    """Tokens by daemon URL."""

    def load(self, daemon_url: str) -> dict[str, Any] | None: ...

    def save(self, daemon_url: str, tokens: dict[str, Any]) -> None: ...

    def delete(self, daemon_url: str) -> None: ...


class FileStore:
    """One JSON file readable by its owner only (0600), every daemon's tokens in it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        write_private(self.path, json.dumps(data))

    def load(self, daemon_url: str) -> dict[str, Any] | None:
        value = self._read().get(daemon_url)
        return value if isinstance(value, dict) else None

    def save(self, daemon_url: str, tokens: dict[str, Any]) -> None:
        data = self._read()
        data[daemon_url] = tokens
        self._write(data)

    def delete(self, daemon_url: str) -> None:
        data = self._read()
        if data.pop(daemon_url, None) is not None:
            self._write(data)


class KeyringStore:
    """The OS keyring (Keychain, Windows Credential Manager, Secret Service)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def load(self, daemon_url: str) -> dict[str, Any] | None:
        text = self.backend.get_password(SERVICE, daemon_url)
        try:
            value = json.loads(text) if text else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def save(self, daemon_url: str, tokens: dict[str, Any]) -> None:
        self.backend.set_password(SERVICE, daemon_url, json.dumps(tokens))

    def delete(self, daemon_url: str) -> None:
        try:
            self.backend.delete_password(SERVICE, daemon_url)
        except Exception:
            logger.debug("no tokens in the keyring for %s", daemon_url)


def usable_keyring() -> Any | None:
    """The keyring backend when the ``keyring`` package is installed and has a real one."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return backend


def default_store() -> TokenStore:
    """The keyring where there is one, else ``tokens.json`` in the user's config folder."""
    backend = usable_keyring()
    if backend is not None:
        return KeyringStore(backend)
    return FileStore(platformdirs.user_config_path("cloudburst") / TOKEN_FILE)
