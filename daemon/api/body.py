"""How big a request body each operation takes, and reading it within that (413 beyond).

Each operation declares a ``BodySize`` (``ApiBlueprint.operation``); its bytes come from the
settings. The limit is checked against ``Content-Length`` before the caller is even
authenticated, and a body without one (chunked) is read only up to the limit, so no caller,
signed in or not, makes the daemon read more than the operation takes. waitress refuses
anything past the largest limit before the app sees it (``daemon.server``).
"""

from __future__ import annotations

from enum import StrEnum

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from common.config import Settings
from common.errors import TooLarge
from daemon.container import services


class BodySize(StrEnum):
    """Which limit an operation's body is held to."""

    SMALL = "small"
    """``limits.small_body_bytes``: operations anyone may call, and those taking no body."""
    JSON = "json"
    """``limits.json_body_bytes``: the JSON body of every other operation."""
    AGENT = "agent"
    """``limits.agent_body_bytes``: an agent's reports (output paths, log text)."""
    PART = "part"
    """``storage.max_part_bytes``: the raw bytes of one part of an upload."""

    @property
    def setting(self) -> str:
        """The setting that holds this limit, as errors name it."""
        return "storage.max_part_bytes" if self is BodySize.PART else f"limits.{self}_body_bytes"

    def limit(self, settings: Settings) -> int:
        """This limit in bytes."""
        if self is BodySize.PART:
            return settings.storage.max_part_bytes
        limit: int = getattr(settings.limits, f"{self}_body_bytes")
        return limit


_ADVICE = {
    BodySize.SMALL: "Send only the fields the operation describes (see /api/v1/openapi.json).",
    BodySize.JSON: "Send less in one request, or ask an admin to raise the setting.",
    BodySize.AGENT: "Send the report in smaller pieces, or ask an admin to raise the setting.",
    BodySize.PART: "Send the file in smaller parts.",
}


def largest_body(settings: Settings) -> int:
    """The largest body any operation takes: what the server refuses beyond."""
    return max(size.limit(settings) for size in BodySize)


def too_large(size: BodySize, limit: int, length: int | None) -> TooLarge:
    sent = f"is {length:,} bytes" if length is not None else "runs on"
    return TooLarge(
        f"The request body {sent}; this operation takes at most {limit:,} bytes "
        f"({size.setting}). {_ADVICE[size]}",
        details={"limit": size.setting, "max": limit, "received": length},
    )


def hold_to(size: BodySize) -> None:
    """Holds this request's body to ``size``: refuses a larger ``Content-Length`` at once,
    before a byte of the body is read, and caps what a body without one may deliver.

    Raises:
        TooLarge: the declared length is over the limit (413).
    """
    settings: Settings = services().context.settings
    limit = size.limit(settings)
    request.max_content_length = limit  # Werkzeug stops a chunked body at the limit
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(size, limit, length)


def read_body(size: BodySize) -> bytes:
    """The request's body, read within the limit ``hold_to`` set.

    Raises:
        TooLarge: a body without a length ran past the limit (413).
    """
    try:
        return request.get_data()
    except RequestEntityTooLarge:
        limit = request.max_content_length or 0
        raise too_large(size, limit, None) from None
