"""The OpenAPI document kept in the repository matches the code, and is what the daemon serves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from daemon.api.meta import committed_document
from daemon.api.openapi import current_document

FLASK_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def test_committed_document_matches_the_code() -> None:
    assert committed_document() == current_document(), (
        "daemon/api/openapi.json is out of date: run `python -m daemon.api.openapi --write`."
    )


def test_every_route_is_documented_and_every_documented_path_exists(app: Flask) -> None:
    served = {
        (FLASK_PARAM.sub(r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {
        (path, method) for path, item in committed_document()["paths"].items() for method in item
    }
    assert served == documented


def test_daemon_serves_the_document(api: FlaskClient) -> None:
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json == committed_document()
    assert "/api/v1/jobs/{job_id}" in response.json["paths"]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_parameter_has_a_schema_and_every_reference_resolves() -> None:
    document = committed_document()
    missing = [
        f"{method.upper()} {path} {param['in']} {param['name']}"
        for path, item in document["paths"].items()
        for method, op in item.items()
        for param in op.get("parameters", [])
        if not isinstance(param.get("schema"), dict) or not param["schema"]
    ]
    assert missing == []
    schemas = document["components"]["schemas"]
    dangling = {
        ref for ref in _refs(document) if ref.removeprefix("#/components/schemas/") not in schemas
    }
    assert dangling == set()


def test_query_parameters_carry_their_model_s_bounds_and_choices() -> None:
    jobs = committed_document()["paths"]["/api/v1/jobs"]["get"]
    params = {param["name"]: param for param in jobs["parameters"]}
    assert params["limit"]["schema"] == {
        "default": 50, "maximum": 500, "minimum": 1, "type": "integer"
    }  # fmt: skip
    assert params["state"]["schema"]["items"] == {"$ref": "#/components/schemas/JobState"}
    assert params["priority_min"]["schema"] == {"maximum": 100, "minimum": 0, "type": "integer"}
    assert not any(param["required"] for param in params.values())


def test_operations_that_parse_a_body_or_query_document_their_400() -> None:
    for path, item in committed_document()["paths"].items():
        for method, op in item.items():
            codes = op["responses"].get("400", {}).get("description", "").split(", ")
            if "requestBody" in op:
                assert {"invalid_input", "invalid_json"} <= set(codes), (method, path)
            if any(param["in"] == "query" for param in op.get("parameters", [])):
                assert "invalid_input" in codes, (method, path)
