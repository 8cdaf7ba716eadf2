"""``ShotGridClient``: shotgun_api3 behind a small facade.

One connection per thread (``shotgun_api3.Shotgun`` is not thread-safe), a timeout, and one
error for every way a call can fail, so callers handle ``ShotGridUnavailable`` only. The
script key is given to shotgun_api3 and nowhere else: it is never logged, and is scrubbed from
error messages.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from common.config import ShotGridSettings
from daemon.shotgun.errors import ShotGridUnavailable

logger = logging.getLogger(__name__)

Connect = Callable[[], Any]
"""Makes a ``shotgun_api3.Shotgun`` (or a Mockgun in tests)."""


class ShotGridClient:
    """Calls one ShotGrid site; safe to share between threads."""

    def __init__(self, settings: ShotGridSettings, connect: Connect | None = None) -> None:
        self.settings = settings
        self._connect = connect or self._connect_site
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"ShotGridClient(site={self.settings.site!r}, script={self.settings.script_name!r})"

    def find(
        self,
        entity_type: str,
        filters: Sequence[Any],
        fields: Sequence[str],
        *,
        order_by: str = "",
        limit: int = 0,
    ) -> list[dict[str, Any]]:
        """Rows matching ``filters``; ``order_by`` a field (ascending), ``limit`` 0: all."""
        order = [{"field_name": order_by, "direction": "asc"}] if order_by else None
        result: list[dict[str, Any]] = self._call(
            f"find {entity_type}", "find", entity_type, list(filters), list(fields), order,
            None, limit,
        )  # fmt: skip
        return result

    def find_one(
        self, entity_type: str, filters: Sequence[Any], fields: Sequence[str]
    ) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._call(
            f"find {entity_type}", "find_one", entity_type, list(filters), list(fields)
        )
        return result

    def create(self, entity_type: str, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(f"create {entity_type}", "create", entity_type, data)
        return result

    def update(self, entity_type: str, entity_id: int, data: dict[str, Any]) -> None:
        self._call(f"update {entity_type} {entity_id}", "update", entity_type, entity_id, data)

    def field_names(self, entity_type: str) -> set[str]:
        """The fields the site's schema has on this entity type."""
        fields: dict[str, Any] = self._call(
            f"read the schema of {entity_type}", "schema_field_read", entity_type
        )
        return set(fields)

    # --- plumbing -----------------------------------------------------------------------------

    def _sg(self) -> Any:
        sg = getattr(self._local, "sg", None)
        if sg is None:
            sg = self._connect()
            self._local.sg = sg
        return sg

    def _call(self, what: str, method: str, *args: Any) -> Any:
        try:
            return getattr(self._sg(), method)(*args)
        except Exception as exc:  # shotgun_api3 raises many kinds: socket, SSL, HTTP, Fault
            self._local.sg = None  # a broken connection is not reused
            message = self._scrub(f"{type(exc).__name__}: {exc}")
            raise ShotGridUnavailable(
                f"ShotGrid ({self.settings.site}) could not {what}: {message}"
            ) from None

    def _scrub(self, text: str) -> str:
        key = self.settings.script_key.get_secret_value()
        return text.replace(key, "***") if key else text

    def _connect_site(self) -> Any:
        import shotgun_api3  # the daemon extra; imported only when a site is configured

        sg = shotgun_api3.Shotgun(
            self.settings.site,
            script_name=self.settings.script_name,
            api_key=self.settings.script_key.get_secret_value(),
            connect=False,
        )
        sg.config.timeout_secs = self.settings.timeout_s
        sg.config.max_rpc_attempts = 1  # our own retries back off; don't multiply them
        return sg
