"""Health and the API's own description."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from flask import Response

from common.models import Health
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services

bp = ApiBlueprint("meta", __name__, tag="meta")

OPENAPI_FILE = "openapi.json"


def committed_document() -> dict[str, Any]:
    """The OpenAPI document kept in the repository (what the daemon serves)."""
    text = resources.files("daemon.api").joinpath(OPENAPI_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@bp.operation(
    "GET", "/health", "Whether the daemon serves, and warnings (a data disk running low)",
    returns=Health, permission=Permission.PUBLIC,
)  # fmt: skip
def health() -> Health:
    return services().monitoring.health()


@bp.operation(
    "GET", "/openapi.json", "This API's OpenAPI 3.1 document", permission=Permission.PUBLIC
)
def openapi() -> Response:
    return Response(json.dumps(committed_document()), mimetype="application/json")
