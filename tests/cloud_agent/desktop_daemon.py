"""A stand-in of the daemon's two desktop endpoints, served over real HTTP.

``POST /api/v1/sessions/<id>/desktop/report`` and ``.../redeem`` as the contract has them: the
Bearer secret must be the session's (else 401 ``unauthorized``); a connection token is good
once, for its own session only (else 403 ``connection_refused`` with the daemon's sentence).
A test changes what the reply says (``warning``, ``end_now``) and reads the reports.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify, request

from common.models import DesktopReport, DesktopReportReply, TokenRedeem
from tests.serving import serve


def refused_sentence(session_id: int) -> str:
    return (
        "This connection token was used already or has expired: ask for a new one with "
        f"GET /api/v1/sessions/{session_id}."
    )


@dataclass
class StandInDaemon:
    """What the stand-in knows and answers; a test changes it between requests."""

    secrets: dict[int, str] = field(default_factory=dict)
    tokens: dict[str, tuple[int, str]] = field(default_factory=dict)
    """token -> (session id, user); removed once used."""
    report_interval_s: float = 0.1
    warning: str | None = None
    end_now: bool = False
    grace_s: float = 30.0
    down: bool = False
    """Answer 503 to everything (a daemon restarting)."""
    reports: list[tuple[int, DesktopReport]] = field(default_factory=list)
    redeemed: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reports_of(self, session_id: int) -> list[DesktopReport]:
        with self.lock:
            return [report for sid, report in self.reports if sid == session_id]


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message}), status


def stand_in_app(daemon: StandInDaemon) -> Flask:
    app = Flask(__name__)

    def refusal(session_id: int) -> tuple[Response, int] | None:
        if daemon.down:
            return _error(503, "unavailable", "The daemon is starting: try again.")
        secret = daemon.secrets.get(session_id)
        if secret is None or request.headers.get("Authorization") != f"Bearer {secret}":
            return _error(401, "unauthorized", "This desktop's secret is not its session's.")
        return None

    @app.post("/api/v1/sessions/<int:session_id>/desktop/report")
    def report(session_id: int) -> Any:
        refused = refusal(session_id)
        if refused is not None:
            return refused
        body = DesktopReport.model_validate_json(request.get_data())
        with daemon.lock:
            daemon.reports.append((session_id, body))
        reply = DesktopReportReply(
            ends_at=datetime.now(UTC) + timedelta(hours=1),
            warning=daemon.warning,
            end_now=daemon.end_now,
            grace_s=daemon.grace_s if daemon.end_now else 0.0,
            report_interval_s=daemon.report_interval_s,
        )
        return jsonify({"data": reply.model_dump(mode="json"), "message": ""})

    @app.post("/api/v1/sessions/<int:session_id>/desktop/redeem")
    def redeem(session_id: int) -> Any:
        refused = refusal(session_id)
        if refused is not None:
            return refused
        token = TokenRedeem.model_validate_json(request.get_data()).token
        with daemon.lock:
            found = daemon.tokens.get(token)
            if found is None or found[0] != session_id:
                return _error(403, "connection_refused", refused_sentence(session_id))
            del daemon.tokens[token]
            daemon.redeemed.append(found)
        data = {"session_id": session_id, "user": found[1]}
        return jsonify({"data": data, "message": "Connect."})

    return app


@contextmanager
def stand_in_daemon(daemon: StandInDaemon) -> Iterator[str]:
    """The stand-in served on 127.0.0.1; yields its URL."""
    with serve(stand_in_app(daemon)) as url:
        yield url
