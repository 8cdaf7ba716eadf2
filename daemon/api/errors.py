"""Every error becomes the same envelope with a stable ``code``; nothing leaks a traceback.

A full data disk is not a bug: SQLite's ``SQLITE_FULL`` and ``ENOSPC``/``EDQUOT`` answer 507
``disk_full`` with what to do (the transaction was rolled back, so nothing changed).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from common.errors import (
    CloudburstError,
    DiskFull,
    FrameSpecError,
    RateLimited,
    TooLarge,
    Unauthenticated,
)
from daemon.services.disk_space import DISK_FULL_MESSAGE, disk_full_cause

logger = logging.getLogger(__name__)

INVALID_JSON = "invalid_json"
"""The code of a request body that is not JSON at all."""


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    return _respond(ErrorAnswer(status, code, message, details))


def describe_validation(exc: ValidationError) -> tuple[str, str, list[dict[str, Any]]]:
    """A stable code, one readable sentence and the per-field details of a validation error."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    kinds = {e["type"] for e in errors}
    if "json_invalid" in kinds:
        return INVALID_JSON, "The request body is not valid JSON: " + errors[0]["msg"], []
    code = FrameSpecError.code if FrameSpecError.code in kinds else "invalid_input"
    details = [{"field": ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in errors]
    sentence = "; ".join(
        f"{d['field']}: {d['problem']}" if d["field"] else d["problem"] for d in details
    )
    return code, f"The request has {len(details)} problem(s): {sentence}.", details


@dataclass(frozen=True)
class ErrorAnswer:
    """What the daemon answers to an error, whichever server carries it (``daemon.api.fast``)."""

    status: int
    code: str
    message: str
    details: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"data": None, "message": self.message, "code": self.code, "details": self.details}


NOT_FOUND = ErrorAnswer(
    404, "not_found", "No such endpoint. The API is described at /api/v1/openapi.json."
)
METHOD_NOT_ALLOWED = ErrorAnswer(
    405, "method_not_allowed",
    "This endpoint does not take that HTTP method; see /api/v1/openapi.json.",
)  # fmt: skip


def answer_error(exc: Exception) -> ErrorAnswer:
    """The answer to ``exc`` raised while serving an API operation: a Cloudburst error as it
    says, a validation error as 400, a full disk as 507, anything else as 500 (logged)."""
    if isinstance(exc, ValidationError):
        code, message, details = describe_validation(exc)
        return ErrorAnswer(400, code, message, details)
    if not isinstance(exc, CloudburstError):
        full = disk_full_cause(exc)
        if full is None:
            logger.error("Unhandled error", exc_info=exc)
            return ErrorAnswer(500, "internal_error", "Internal error; the daemon log has details.")
        logger.error("The data disk is full: %s", full)  # not a bug: nothing was written
        exc = DiskFull(DISK_FULL_MESSAGE)
    if exc.status >= 500:
        logger.error("%s: %s", exc.code, exc.message)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="cloudburst"'
    if isinstance(exc, RateLimited) and isinstance(exc.details, dict):
        wait = exc.details.get("retry_after_s")
        if isinstance(wait, int | float):
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return ErrorAnswer(exc.status, exc.code, exc.message, exc.details, headers)


def _respond(answer: ErrorAnswer) -> Response:
    response = jsonify(answer.body())
    response.status_code = answer.status
    response.headers.update(answer.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> Response:
        return error_response(
            413, TooLarge.code,
            "The request body is larger than this page's form takes; send less.",
        )  # fmt: skip

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        known = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}.get(status)
        response = _respond(known or ErrorAnswer(status, "http_error", exc.description or exc.name))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    @app.errorhandler(Exception)  # Cloudburst and validation errors too: answer_error says how
    def _bug(exc: Exception) -> Response:
        return _respond(answer_error(exc))
