"""Desktop sessions through real HTTP: the profiles offered, start, read, list, end, and every
refusal (its status, code and sentence) changing nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import requests

from common.config import Settings
from daemon.app import create_app
from tests.conftest import FakeClock, user_token
from tests.daemon.desktops.desk import Desk
from tests.serving import serve


def refused(answer: requests.Response, status: int, code: str, words: str = "") -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert error["code"] == code, error
    assert words in error["message"], error


def test_profiles_offered_leave_out_a_confidential_projects_to_non_members(desk: Desk) -> None:
    names = [p["name"] for p in desk.data("GET", "/sessions/profiles")]
    assert names == ["std", "any"]
    std = desk.data("GET", "/sessions/profiles")[0]
    assert std["max_duration_h"] == 10 and std["price_per_hour"] == 3.6 and std["gpus"] == 1
    desk.data("PUT", "/projects/vault/members", as_="root", json={"members": ["ana"]})
    assert [p["name"] for p in desk.data("GET", "/sessions/profiles")] == ["std", "secret", "any"]
    assert [p["name"] for p in desk.data("GET", "/sessions/profiles", as_="ben")] == ["std", "any"]


def test_a_session_is_provisioning_at_once_and_its_desktop_launched(desk: Desk) -> None:
    session = desk.start(duration_h=2)
    assert session["state"] == "provisioning"
    assert session["user"] == "ana" and session["project"] == "show"
    assert session["profile"] == "std" and session["backend"] == "memory"
    assert session["time_left_s"] == 7200 and session["connection"] is None
    [launch] = desk.cloud.launches
    assert launch.session_id == session["id"] and launch.user == "ana"
    assert launch.name == f"cloudburst-desktop-{session['id']}"
    assert launch.secret.startswith("cbs_") and launch.restore_backup_id is None
    stored = desk.services.context.database.db.execute(
        "SELECT secret_hash, instance_id FROM desktop_sessions"
    ).fetchone()
    assert stored[0] == hashlib.sha256(launch.secret.encode()).hexdigest()
    assert stored[1] == "memdesk-1"
    assert desk.data("GET", f"/sessions/{session['id']}")["instance_id"] == "memdesk-1"
    assert desk.audit(session["id"]) == ["session.start"]


def test_a_td_starts_a_session_for_another_person(desk: Desk) -> None:
    session = desk.start("tess", user="ben")
    assert session["user"] == "ben"
    assert [s["id"] for s in desk.data("GET", "/sessions", as_="ben")] == [session["id"]]
    record = desk.data("GET", f"/audit/desktops?session_id={session['id']}", as_="root")[0]
    assert record["actor"] == "tess" and record["user"] == "ben"


REFUSALS: list[tuple[str, str, dict[str, Any], int, str, str]] = [
    ("unknown profile", "ana", {"profile": "huge"}, 404, "not_found", "GET /api/v1/sessions/pro"),
    ("too long", "ana", {"profile": "std", "duration_h": 11}, 400, "invalid_input", "at most 10"),
    ("no duration", "ana", {"profile": "std", "duration_h": 0}, 400, "invalid_input", ""),
    ("other project", "ana", {"profile": "std", "project": "other"}, 400, "invalid_input",
     "choose one of show"),
    ("no project", "ana", {"profile": "any"}, 400, "invalid_input", "Name the project"),
    ("not a member", "ana", {"profile": "secret"}, 403, "forbidden", "members"),
    ("confidential project", "ana", {"profile": "any", "project": "vault"}, 403, "forbidden",
     "confidential"),
    ("for another", "ana", {"profile": "std", "user": "ben"}, 403, "forbidden", "TDs and admins"),
    ("unknown user", "tess", {"profile": "std", "user": "nobody"}, 400, "invalid_input",
     "No active user"),
    ("from a snapshot", "ana", {"profile": "std", "snapshot_id": 3}, 404,
     "not_found", "No snapshot 3"),
    ("unknown field", "ana", {"profile": "std", "gpus": 8}, 400, "invalid_input", ""),
]  # fmt: skip


@pytest.mark.parametrize(("caller", "body", "status", "code", "words"),
                         [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])  # fmt: skip
def test_a_refused_start_says_why_and_changes_nothing(
    desk: Desk, caller: str, body: dict[str, Any], status: int, code: str, words: str
) -> None:
    before = desk.state()
    refused(desk.call("POST", "/sessions", caller, json=body), status, code, words)
    desk.services.sessions.settle()
    assert desk.state() == before
    assert desk.cloud.launches == []


def test_a_member_starts_a_confidential_projects_desktop(desk: Desk) -> None:
    desk.data("PUT", "/projects/vault/members", as_="root", json={"members": ["ana"]})
    assert desk.start(profile="secret")["project"] == "vault"
    assert desk.start(profile="any", project="vault")["project"] == "vault"


def test_a_user_has_at_most_max_sessions_per_user_live(desk: Desk) -> None:
    first = desk.start()
    desk.start()
    before = desk.state()
    refused(desk.call("POST", "/sessions", json={"profile": "std"}), 409, "too_many_sessions",
            "end one first")  # fmt: skip
    assert desk.state() == before
    desk.data("DELETE", f"/sessions/{first['id']}")
    desk.clock.advance(121)
    desk.services.sessions.run_pass()
    assert desk.start()["state"] == "provisioning"  # an ended one no longer counts


def test_desktops_off_answer_409_with_the_setting_to_change(tmp_path: Path) -> None:
    from common.accounts import Role

    app = create_app(Settings(data_dir=tmp_path / "data"), clock=FakeClock())
    services = app.extensions["cloudburst"]
    token = user_token(services, "ana", Role.ARTIST)
    with serve(app) as url, requests.Session() as http:
        answer = http.post(f"{url}/api/v1/sessions", json={"profile": "std"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
        refused(answer, 409, "desktops_off", "[sessions] backend")
        offered = http.get(f"{url}/api/v1/sessions/profiles",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
        assert offered.json()["data"] == []
        rows = services.context.database.db.execute("SELECT COUNT(*) FROM desktop_sessions")
        assert rows.fetchone()[0] == 0
    services.sessions.close()


def test_a_launch_the_cloud_refuses_fails_the_session_with_its_sentence(desk: Desk) -> None:
    desk.cloud.refuse_next_launch("Out of host capacity in AD-1.")
    session = desk.start()
    assert session["state"] == "provisioning"
    failed = desk.data("GET", f"/sessions/{session['id']}")
    assert failed["state"] == "failed"
    assert "Out of host capacity in AD-1." in failed["detail"]
    assert failed["cost"] == 0 and failed["instance_id"] is None
    assert desk.audit(session["id"]) == ["session.start", "session.failed"]


def test_an_artist_never_sees_another_persons_session(desk: Desk) -> None:
    session = desk.ready()
    path = f"/sessions/{session['id']}"
    before = desk.state()
    for method in ("GET", "DELETE"):
        refused(desk.call(method, path, "ben"), 404, "not_found",
                f"No session {session['id']} of yours")  # fmt: skip
        refused(desk.call(method, "/sessions/999", "ben"), 404, "not_found",
                "No session 999 of yours")  # fmt: skip
    assert desk.state() == before
    assert desk.data("GET", "/sessions", as_="ben") == []
    refused(desk.call("GET", "/sessions?user=ana", "ben"), 403, "forbidden", "TDs and admins")
    seen = desk.data("GET", path, as_="tess")
    assert seen["connection"]["host"] == "10.0.0.7" and seen["connection"]["token"] is None
    assert [s["id"] for s in desk.data("GET", "/sessions?user=ana", as_="tess")] == [session["id"]]
    assert desk.data("GET", "/sessions?state=failed", as_="tess") == []


def test_the_owner_reads_a_ready_session_with_a_one_time_token(desk: Desk) -> None:
    session = desk.ready()
    mine = desk.data("GET", f"/sessions/{session['id']}")
    assert mine["state"] == "ready" and mine["started_at"] is not None
    connection = mine["connection"]
    assert connection["protocol"] == "dcv" and connection["port"] == 8443
    assert connection["token"].startswith("cbc_")
    assert connection["token_expires_at"].startswith("2027-01-15T08:02:00")
    again = desk.data("GET", f"/sessions/{session['id']}")["connection"]["token"]
    assert again != connection["token"]
    assert desk.audit(session["id"]) == ["session.start", "session.token", "session.token"]


def test_ending_tells_the_desktop_then_terminates_it_after_the_grace(desk: Desk) -> None:
    session = desk.ready()
    ending = desk.data("DELETE", f"/sessions/{session['id']}")
    assert ending["state"] == "ending" and ending["connection"] is None
    assert desk.data("DELETE", f"/sessions/{session['id']}")["state"] == "ending"  # again: same
    reply = desk.report(session["id"]).json()["data"]
    assert reply["end_now"] is True and reply["grace_s"] == 120 and reply["warning"]
    desk.clock.advance(119)
    desk.services.sessions.run_pass()
    assert ("terminate", "memdesk-1") not in desk.cloud.calls
    desk.clock.advance(1)
    desk.services.sessions.run_pass()
    assert ("terminate", "memdesk-1") in desk.cloud.calls
    ended = desk.data("GET", f"/sessions/{session['id']}")
    assert ended["state"] == "ended" and ended["time_left_s"] == 0
    assert ended["cost"] == pytest.approx(120 * 3.6 / 3600)
    assert desk.report(session["id"]).json()["data"] | {"ends_at": None} == {
        "ends_at": None, "warning": reply["warning"], "end_now": True, "grace_s": 0.0,
        "report_interval_s": 10.0,
    }  # fmt: skip
    before = desk.state()
    refused(desk.call("DELETE", f"/sessions/{session['id']}"), 409, "illegal_state_change",
            "ended already")  # fmt: skip
    assert desk.state() == before
    assert desk.audit(session["id"]) == ["session.start", "session.end_requested", "session.ended"]


def test_a_session_ended_while_its_launch_runs_has_its_desktop_terminated(desk: Desk) -> None:
    session = desk.start()
    desk.data("DELETE", f"/sessions/{session['id']}")
    desk.clock.advance(120)
    desk.services.sessions.run_pass()
    assert desk.data("GET", f"/sessions/{session['id']}")["state"] == "ended"
    assert desk.cloud.desktops() == []


def test_a_users_session_history(desk: Desk) -> None:
    first = desk.ready()
    desk.data("DELETE", f"/sessions/{first['id']}")
    second = desk.start()
    ana = next(u for u in desk.data("GET", "/users", as_="root") if u["name"] == "ana")
    path = f"/users/{ana['id']}/sessions"
    assert [s["id"] for s in desk.data("GET", path)] == [second["id"], first["id"]]
    assert len(desk.data("GET", path, as_="tess")) == 2
    assert len(desk.data("GET", path, as_="root")) == 2
    refused(desk.call("GET", path, "ben"), 403, "forbidden", "your own session history")
    refused(desk.call("GET", "/users/999/sessions", "root"), 404, "not_found", "No user 999")


def test_live_desktops_are_resources_with_their_user_and_cost(desk: Desk) -> None:
    session = desk.ready()
    desk.clock.advance(600)
    desk.report(session["id"], connected=True)
    [desktop] = [r for r in desk.data("GET", "/resources") if r["kind"] == "desktop"]
    assert desktop["state"] == "active" and desktop["user"] == "ana"
    assert desktop["profile"] == "std" and desktop["session_id"] == session["id"]
    assert desktop["id"] == "memdesk-1" and desktop["gpus"] == 1
    assert desktop["cost"] == pytest.approx(600 * 3.6 / 3600)
    desk.report(session["id"], connected=False, idle_s=30)
    [desktop] = [r for r in desk.data("GET", "/resources") if r["kind"] == "desktop"]
    assert desktop["state"] == "idle"


def test_the_desktop_audit_log_is_filtered_and_for_auditors_only(desk: Desk) -> None:
    a = desk.start()
    desk.start("ben")
    assert {r["user"] for r in desk.data("GET", "/audit/desktops?user=ben", as_="pam")} == {"ben"}
    records = desk.data("GET", f"/audit/desktops?session_id={a['id']}", as_="tess")
    assert [r["session_id"] for r in records] == [a["id"]]
    page = desk.data("GET", "/audit/desktops?limit=1", as_="root")
    older = desk.data("GET", f"/audit/desktops?before_id={page[0]['id']}", as_="root")
    assert [r["user"] for r in page + older] == ["ben", "ana"]
    refused(desk.call("GET", "/audit/desktops", "ana"), 403, "forbidden", "audit.read")


def test_project_members_are_set_whole_and_checked(desk: Desk) -> None:
    members = desk.data("PUT", "/projects/vault/members", as_="root",
                        json={"members": ["ben", "ana", "ana"]})  # fmt: skip
    assert members == {"project": "vault", "members": ["ana", "ben"]}
    before = desk.state()
    refused(desk.call("PUT", "/projects/vault/members", "root", json={"members": ["ana", "zed"]}),
            400, "invalid_input", "No active user named zed")  # fmt: skip
    refused(desk.call("PUT", "/projects/vault/members", "ana", json={"members": ["ana"]}),
            403, "forbidden")  # fmt: skip
    assert desk.state() == before
    desk.data("PUT", "/projects/vault/members", as_="root", json={"members": ["ben"]})
    assert desk.data("GET", "/projects/vault/members")["members"] == ["ben"]


def test_a_start_from_a_snapshot_not_yet_available_is_a_documented_409(desk: Desk) -> None:
    session = desk.ready()
    desk.cloud.backups_finish_at_once = False
    made = desk.data("POST", "/snapshots", json={"session_id": session["id"]})
    assert made["state"] == "creating"
    before = desk.state()
    body = {"profile": "std", "snapshot_id": made["id"]}
    refused(desk.call("POST", "/sessions", json=body), 409, "snapshot_unavailable",
            "wait until this one is available")  # fmt: skip
    desk.services.sessions.settle()
    assert desk.state() == before
    document = desk.call("GET", "/openapi.json", None).json()
    start = document["paths"]["/api/v1/sessions"]["post"]["responses"]
    assert "snapshot_unavailable" in start["409"]["description"]
    assert "no_running_desktop" not in start["409"]["description"]
    report = document["paths"]["/api/v1/sessions/{session_id}/desktop/report"]["post"]
    assert "invalid_input" in report["responses"]["400"]["description"]
