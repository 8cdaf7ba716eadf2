"""What a desktop calls, through real HTTP: its reports and the broker's one-time connection
tokens, each checked against its own session's secret."""

from __future__ import annotations

import pytest

from tests.daemon.desktops.desk import Desk
from tests.daemon.desktops.test_sessions_api import refused

REFUSED_TOKEN = "This connection token was used already or has expired"


def token_of(desk: Desk, session_id: int, as_: str = "ana") -> str:
    connection = desk.data("GET", f"/sessions/{session_id}", as_=as_)["connection"]
    token: str = connection["token"]
    return token


def test_a_token_is_good_once(desk: Desk) -> None:
    session = desk.ready()
    token = token_of(desk, session["id"])
    answer = desk.redeem(session["id"], token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"] == {"session_id": session["id"], "user": "ana"}
    refused(desk.redeem(session["id"], token), 403, "connection_refused", REFUSED_TOKEN)
    assert f"GET /api/v1/sessions/{session['id']}" in desk.redeem(session["id"], token).text
    assert desk.audit(session["id"])[-3:] == [
        "session.connect",
        "session.connect_refused",
        "session.connect_refused",
    ]


def test_an_expired_token_is_refused(desk: Desk) -> None:
    session = desk.ready()
    token = token_of(desk, session["id"])
    desk.clock.advance(120)
    refused(desk.redeem(session["id"], token), 403, "connection_refused", REFUSED_TOKEN)
    fresh = token_of(desk, session["id"])
    assert desk.redeem(session["id"], fresh).status_code == 200


def test_a_token_is_good_for_its_own_session_only(desk: Desk) -> None:
    first = desk.ready()
    second = desk.ready()
    token = token_of(desk, first["id"])
    refused(desk.redeem(second["id"], token), 403, "connection_refused", REFUSED_TOKEN)
    assert desk.redeem(first["id"], token).status_code == 200  # the refusal did not spend it


def test_an_ending_session_takes_no_connection(desk: Desk) -> None:
    session = desk.ready()
    token = token_of(desk, session["id"])
    desk.data("DELETE", f"/sessions/{session['id']}")
    refused(desk.redeem(session["id"], token), 403, "connection_refused", REFUSED_TOKEN)


def test_a_manager_reading_the_session_gets_no_token(desk: Desk) -> None:
    session = desk.ready()
    assert desk.data("GET", f"/sessions/{session['id']}", as_="root")["connection"]["token"] is None
    assert "session.token" not in desk.audit(session["id"])


@pytest.mark.parametrize("call", ["report", "redeem"])
def test_a_wrong_missing_or_other_sessions_secret_is_401(desk: Desk, call: str) -> None:
    session = desk.ready()
    other = desk.ready("ben")
    token = token_of(desk, session["id"])
    before = desk.state()
    for secret in ("cbs_not-the-secret", "", desk.secret(other["id"]), desk.tokens["ana"]):
        if call == "report":
            answer = desk.report(session["id"], secret=secret, connected=True)
        else:
            answer = desk.redeem(session["id"], token, secret=secret)
        refused(answer, 401, "unauthorized", "this session's secret")
    refused(desk.report(999, secret=desk.secret(session["id"])), 401, "unauthorized")
    assert desk.state() == before
    assert desk.redeem(session["id"], token).status_code == 200  # never spent by the refusals


def test_reports_move_the_session_ready_idle_and_back(desk: Desk) -> None:
    session = desk.start()
    desk.cloud.run(desk.instance(session["id"]))
    reply = desk.report(session["id"]).json()["data"]
    assert reply["end_now"] is False and reply["warning"] is None
    assert reply["report_interval_s"] == 10.0
    assert desk.data("GET", f"/sessions/{session['id']}")["state"] == "ready"
    desk.report(session["id"], connected=False, idle_s=299)
    assert desk.data("GET", f"/sessions/{session['id']}")["state"] == "ready"
    desk.report(session["id"], connected=False, idle_s=300)
    idle = desk.data("GET", f"/sessions/{session['id']}", as_="tess")
    assert idle["state"] == "idle" and idle["idle_s"] == 300
    desk.report(session["id"], connected=True, idle_s=0, host="10.0.0.9", port=4172)
    ready = desk.data("GET", f"/sessions/{session['id']}", as_="tess")
    assert ready["state"] == "ready"
    assert ready["connection"] == {"protocol": "dcv", "host": "10.0.0.9", "port": 4172,
                                   "token": None, "token_expires_at": None}  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {"host": "evil.example/path"},
        {"host": "a b"},
        {"port": 0},
        {"idle_s": -1},
        {"extra": 1},
    ],
)
def test_a_bad_report_is_refused_and_changes_nothing(desk: Desk, body: dict[str, object]) -> None:
    session = desk.start()
    before = desk.state()
    refused(desk.report(session["id"], **body), 400, "invalid_input")
    assert desk.state() == before
