"""Declares API operations once: the Flask route and its OpenAPI description come from one place.

A view is a plain function that takes path parameters plus, when declared, ``body`` (a parsed,
validated model), ``query`` (parsed query parameters) and ``headers`` (the request headers a
model names), and returns a model, a list of models, or None. The wrapper puts the result into
the ``{"data", "message"}`` envelope.

Every operation declares the permission it requires; the wrapper authenticates the caller and
checks it before the view runs (``daemon.api.guard``), so no endpoint exists unprotected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel

from common.errors import CloudburstError
from daemon.api.guard import authorize
from daemon.auth import Permission

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
    ) -> Callable[[View], View]:
        op = Operation(
            method=method, path=path, summary=summary, tag=self.tag, body=body, query=query,
            headers=headers, returns=returns, returns_list=returns_list, status=status,
            errors=errors, extra_statuses=extra_statuses or {}, permission=permission,
            owner_may=owner_may,
        )  # fmt: skip
        self.operations.append(op)

        def decorate(view: View) -> View:
            @functools.wraps(view)
            def endpoint(**params: Any) -> Response | tuple[Response, int]:
                authorize(op.method, op.path, op.permission, op.owner_may, params)
                if op.body is not None:
                    params["body"] = op.body.model_validate_json(request.get_data() or b"{}")
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
                return envelope(result, summary_message(op, result)), op.status

            self.add_url_rule(path, view.__name__, endpoint, methods=[method])
            return view

        return decorate


def header_names(model: type[BaseModel]) -> list[str]:
    """The headers a headers model reads: its fields' aliases."""
    return [field.alias or name for name, field in model.model_fields.items()]


def to_data(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [to_data(item) for item in result]
    return result


def envelope(result: Any, message: str = "") -> Response:
    return jsonify({"data": to_data(result), "message": message})


def summary_message(op: Operation, result: Any) -> str:
    if isinstance(result, list):
        return f"{len(result)} item(s)."
    return "OK."
