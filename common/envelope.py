"""Reading the daemon's answers: the ``{data, message}`` envelope, or the error it describes."""

from __future__ import annotations

from typing import Any

import requests

from common.errors import error_for


def never_sent(exc: requests.ConnectionError) -> bool:
    """Whether the request surely never reached the server (connection refused or no route)."""
    text = repr(exc)
    return any(s in text for s in ("Connection refused", "NewConnectionError", "Name or service"))


def decode(response: requests.Response) -> Any:
    """The envelope's data, or the error the envelope describes."""
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        return error_for(
            None, response.status_code,
            f"The daemon answered {response.status_code} without a Cloudburst envelope; "
            "is the daemon URL right?",
        )  # fmt: skip
    if response.ok:
        return envelope.get("data")
    return error_for(
        envelope.get("code"),
        response.status_code,
        envelope.get("message") or f"HTTP {response.status_code}",
        envelope.get("details"),
    )
