"""Builds the OpenAPI 3.1 document from the declared operations and the wire models.

The document is kept in the repository (``daemon/api/openapi.json``) and served by the daemon;
a test rebuilds it from the code and fails when the two differ. After changing the API, run
``python -m daemon.api.openapi --write``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from common import __version__
from common.accounts import Role
from common.errors import CloudburstError, DiskFull, InvalidInput
from common.models import MAX_INTEGER
from daemon.api.errors import INVALID_JSON
from daemon.api.routing import Operation
from daemon.auth import Permission, permissions_of

REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def build_document(operations: Iterable[Operation], prefix: str) -> dict[str, Any]:
    operations = list(operations)
    models: set[type[BaseModel]] = set()
    for op in operations:
        models.update(m for m in (op.body, op.returns) if m is not None)
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF,
    )
    schemas: dict[str, Any] = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        path = prefix + _PARAM.sub(r"{\2}", op.path)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cloudburst daemon API",
            "version": __version__,
            "description": (
                "Every response is an envelope {data, message}; errors add a stable `code` "
                "and `details`. Send `Authorization: Bearer <token>` (an access token from "
                "/auth/login, an API key, or an agent's token); each operation names the "
                "permission it needs (`x-permission`) and the roles that have it (`x-roles`)."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {**schemas, "Error": _ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        "A 15-minute access token (JWT, HS256) from /auth/login or "
                        "/auth/refresh; or an API key (cbk_...); or an agent token (cba_...)."
                    ),
                }
            },
        },
        "security": [{"bearer": []}],
    }


_ERROR_SCHEMA = {
    "type": "object",
    "required": ["data", "message", "code"],
    "properties": {
        "data": {"type": "null"},
        "message": {"type": "string"},
        "code": {"type": "string"},
        "details": {},
    },
}


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    """One operation's entry; the schemas its query parameters refer to join ``schemas``."""
    data: dict[str, Any] = {"type": "null"}
    if op.returns is not None:
        ref = {"$ref": REF.format(model=op.returns.__name__)}
        data = {"type": "array", "items": ref} if op.returns_list else ref
    responses: dict[str, Any] = {
        str(op.status): {
            "description": "OK",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"data": data, "message": {"type": "string"}},
                    }
                }
            },
        }
    }
    for status, description in op.extra_statuses.items():
        responses[str(status)] = {"description": description}
    # Any request may meet a full data disk (daemon/api/errors.py answers it with 507).
    errors: set[type[CloudburstError]] = {*op.errors, DiskFull}
    answers = {(error.status, error.code) for error in errors}
    if op.body is not None or op.query is not None:  # the model refuses what it cannot parse
        answers.add((InvalidInput.status, InvalidInput.code))
    if op.body is not None:
        answers.add((InvalidInput.status, INVALID_JSON))
    for status, code in sorted(answers):
        entry = responses.setdefault(
            str(status),
            {
                "description": "",
                "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
            },
        )
        entry["description"] = ", ".join(filter(None, [entry["description"], code]))
    result: dict[str, Any] = {
        "summary": op.summary,
        "operationId": _operation_id(op),
        "tags": [op.tag],
        "responses": responses,
        **_security(op, responses),
        "x-body-limit": op.body_size.setting,
    }
    params = [
        {"name": name, "in": "path", "required": True, "schema": _PATH_SCHEMAS[kind or "str"]}
        for kind, name in _PARAM.findall(op.path)
    ]
    if op.query is not None:
        params += _query_parameters(op.query, schemas)
    if op.headers is not None:
        params.extend(_header_params(op.headers))
    if params:
        result["parameters"] = params
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}
            },
        }
    return result


def _header_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The request headers a headers model reads, each with its schema (a null-free one)."""
    properties = model.model_json_schema(by_alias=True)["properties"]
    params = []
    for name, field in model.model_fields.items():
        alias = field.alias or name
        schema = dict(properties[alias])
        branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
        if len(branches) == 1:
            schema.update(branches[0])
        for key in ("default", "description", "title"):
            schema.pop(key, None)
        params.append({"name": alias, "in": "header", "required": field.is_required(),
                       "description": field.description or "", "schema": schema})  # fmt: skip
    return params


#: What a path parameter's converter matches (``daemon/api/converters.py`` bounds ids).
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER},
    "str": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"},
}


def _query_parameters(query: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field of a query model as a parameter with its JSON schema (bounds, enums).

    Raises:
        ValueError: the model refers to a schema that differs from a same-named one already in
            ``schemas``.
    """
    schema = query.model_json_schema(ref_template=REF)
    for name, sub in schema.get("$defs", {}).items():
        if schemas.setdefault(name, sub) != sub:
            raise ValueError(f"Two different schemas are named {name}; rename one.")
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        description = prop.pop("description", None) or query.model_fields[name].description
        params.append(
            {"name": name, "in": "query", "required": name in required,
             "description": description or "", "schema": _without_null(prop)}
        )  # fmt: skip
    return params


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` as a query parameter is X: a query string cannot carry a JSON null."""
    options = schema.get("anyOf")
    if not options or {"type": "null"} not in options:
        return schema
    rest = [option for option in options if option != {"type": "null"}]
    outer = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    inner = rest[0] if len(rest) == 1 else {"anyOf": rest}
    return {**inner, **outer}


def _security(op: Operation, responses: dict[str, Any]) -> dict[str, Any]:
    """Who may call ``op``: the permission, the roles holding it, and the 401/403 answers."""
    permission = op.permission
    if permission is None or permission is Permission.PUBLIC:
        return {"security": [], "x-permission": "public", "x-roles": ["anyone"]}
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
    responses.setdefault("401", {"description": "unauthenticated", **error})
    responses.setdefault("403", {"description": "forbidden", **error})
    if permission is Permission.AGENT_PROTOCOL:
        roles = ["agent (its own id only)", Role.ADMIN.value]
    elif permission is Permission.AGENTS_ENROLL:
        roles = ["an enrollment token", "agent (itself)", Role.TD.value, Role.ADMIN.value]
    else:
        roles = [role.value for role in Role if permission in permissions_of(role)]
        if op.owner_may:
            roles.append("artist (own jobs)")
    return {"security": [{"bearer": []}], "x-permission": permission.value, "x-roles": roles}


def _operation_id(op: Operation) -> str:
    words = [op.method.lower(), *(w for w in _PARAM.sub(r"\2", op.path).split("/") if w)]
    return "_".join(words)


def current_document() -> dict[str, Any]:
    """The document the code describes now."""
    from daemon.api import BLUEPRINTS, PREFIX

    return build_document((op for bp in BLUEPRINTS for op in bp.operations), PREFIX)


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write daemon/api/openapi.json")
    args = parser.parse_args(argv)
    text = render(current_document())
    if args.write:
        (Path(__file__).parent / "openapi.json").write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
