"""The OpenAPI document kept in the repository matches the code, and is what the daemon serves."""

from __future__ import annotations

import re

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
