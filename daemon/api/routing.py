"""Declares API operations once: the Flask route and its OpenAPI description come from one place.

A view is a plain function that takes path parameters plus, when declared, ``body`` (a parsed,
validated model), ``query`` (parsed query parameters) and ``headers`` (the request headers a
model names), and returns a model, a list of models, or None. The wrapper puts the result into
the ``{"data", "message"}`` envelope.

Every operation declares the permission it requires; the wrapper authenticates the caller and
checks it before the view runs (``daemon.api.guard``), so no endpoint exists unprotected.

Every operation also has a body limit (``daemon.api.body``): operations anyone may call and
those without a body take a small one, JSON bodies a larger one, and only the upload of a part
and agents' reports more. It is checked before the caller is authenticated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel

from common.errors import CloudburstError, TooLarge
from daemon.api.body import BodySize, hold_to, read_body
from daemon.api.guard import authorize
from daemon.auth import Permission

#: Permissions that let callers without an account in: their bodies are held small.
OPEN = (Permission.PUBLIC, Permission.AGENTS_ENROLL)

View = Callable[..., Any]


@dataclass(frozen=True)
class Operation:
    """One HTTP operation as the OpenAPI document describes it."""

    method: str
    path: str
    """Flask rule relative to /api/v1, e.g. ``/jobs/<int:job_id>``."""
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    """Request headers the view reads, each field named by its alias (``Idempotency-Key``)."""
    returns: type[BaseModel] | None = None
    returns_list: bool = False
    status: int = 200
    errors: tuple[type[CloudburstError], ...] = ()
    extra_statuses: dict[int, str] = field(default_factory=dict)
    permission: Permission | None = None
    """What the caller needs; ``Permission.PUBLIC`` for the few open operations."""
    owner_may: bool = False
    """An artist may do this on a job they own (``job_id`` in the path) without
    ``permission``."""
    body_size: BodySize = BodySize.SMALL
    """The limit the request body is held to (413 beyond)."""


class ApiBlueprint(Blueprint):
    """A blueprint that remembers its operations for the OpenAPI document."""

    def __init__(self, name: str, import_name: str, tag: str) -> None:
        super().__init__(name, import_name)
        self.tag = tag
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        permission: Permission,
        owner_may: bool = False,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        headers: type[BaseModel] | None = None,
        returns: type[BaseModel] | None = None,
        returns_list: bool = False,
        status: int = 200,
        errors: tuple[type[CloudburstError], ...] = (),
        extra_statuses: dict[int, str] | None = None,
        body_size: BodySize | None = None,
    ) -> Callable[[View], View]:
        """Declares one operation. ``body_size`` defaults to ``SMALL`` without a ``body``
        model, ``AGENT`` for agents' reports and ``JSON`` for the rest; an operation anyone
        may call is always ``SMALL``."""
        if body_size is None:
            body_size = default_body_size(body, permission)
        if permission in OPEN and body_size is not BodySize.SMALL:
            raise ValueError(f"{method} {path}: an operation anyone may call takes small bodies")
        op = Operation(
            method=method, path=path, summary=summary, tag=self.tag, body=body, query=query,
            headers=headers, returns=returns, returns_list=returns_list, status=status,
            errors=errors if TooLarge in errors else (*errors, TooLarge),
            extra_statuses=extra_statuses or {}, permission=permission, owner_may=owner_may,
            body_size=body_size,
        )  # fmt: skip
        self.operations.append(op)

        def decorate(view: View) -> View:
            @functools.wraps(view)
            def endpoint(**params: Any) -> Response:
                hold_to(op.body_size)  # before anyone is authenticated or anything is read
                authorize(op.method, op.path, op.permission, op.owner_may, params)
                if op.body is not None:
                    data = read_body(op.body_size)
                    params["body"] = op.body.model_validate_json(data or b"{}")
                if op.query is not None:
                    params["query"] = op.query.model_validate(
                        {k: ",".join(request.args.getlist(k)) for k in request.args},
                        strict=False,
                    )
                if op.headers is not None:
                    params["headers"] = op.headers.model_validate(
                        {name: request.headers[name] for name in header_names(op.headers)
                         if name in request.headers}
                    )  # fmt: skip
                result = view(**params)
                if isinstance(result, Response):
                    return result
                return envelope(result, summary_message(op, result), op.status)

            self.add_url_rule(path, view.__name__, endpoint, methods=[method])
            return view

        return decorate


def header_names(model: type[BaseModel]) -> list[str]:
    """The headers a headers model reads: its fields' aliases."""
    return [field.alias or name for name, field in model.model_fields.items()]


def default_body_size(body: type[BaseModel] | None, permission: Permission) -> BodySize:
    if body is None or permission in OPEN:
        return BodySize.SMALL
    return BodySize.AGENT if permission is Permission.AGENT_PROTOCOL else BodySize.JSON


def to_json(result: Any) -> str:
    """``result`` as JSON text: models as pydantic writes them (``mode="json"``), lists of
    them, and anything else as Flask's JSON provider writes it."""
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    if isinstance(result, list):
        return "[" + ",".join(to_json(item) for item in result) + "]"
    text: str = current_app.json.dumps(result)
    return text


def envelope(result: Any, message: str = "", status: int = 200) -> Response:
    """The ``{"data", "message"}`` answer, written once (no dict of the result in between)."""
    return Response(envelope_text(to_json(result), message), status=status,
                    mimetype="application/json")  # fmt: skip


def envelope_text(data_json: str, message: str) -> str:
    """The envelope's text around ``data_json``, the answer's data already written as JSON."""
    return f'{{"data":{data_json},"message":{json.dumps(message)}}}\n'


def summary_message(op: Operation, result: Any) -> str:
    if isinstance(result, list):
        return f"{len(result)} item(s)."
    return "OK."
