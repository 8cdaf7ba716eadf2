"""The desktops pages: one's desktop sessions (start, connect with a one-time token, end) and
their snapshots (take, delete, archive, start from one), through CSRF-checked forms that the
same rules as the API govern."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from common.accounts import Role
from common.config import Settings
from common.models import MAX_SESSION_HOURS
from daemon.app import create_app
from daemon.container import services_of
from tests.conftest import FakeClock
from tests.daemon.calls import snapshot
from tests.daemon.web.desks import Desks
from tests.daemon.web.helpers import csrf, sign_in


@pytest.fixture
def desks(tmp_path: Path) -> Iterator[Desks]:
    found = Desks(tmp_path)
    try:
        yield found
    finally:
        found.services.sessions.close()


def test_start_connect_and_end_from_the_page(desks: Desks) -> None:
    ana = sign_in(desks.app, "ana")
    page = ana.get("/sessions").data.decode()
    assert 'name="profile"' in page and '<option value="std">' in page
    assert '<option value="secret">' not in page  # vault is confidential: not offered to ana
    session_id = desks.start(ana, duration_h="2")
    assert desks.session(session_id).state == "provisioning"
    listed = ana.get("/sessions").data.decode()
    assert f'data-session="{session_id}"' in listed and ">2 h<div" in listed
    assert 'data-action="connect"' not in listed  # not ready yet

    desks.ready(session_id)
    listed = ana.get("/sessions").data.decode()
    assert "10.0.0.7:8443" in listed and 'data-action="connect"' in listed
    assert "cbc_" not in listed  # a listing never carries a token
    opened = ana.post(f"/sessions/{session_id}/connect", data={"csrf": csrf(ana)})
    assert opened.status_code == 200
    assert opened.headers["Cache-Control"] == "no-store"
    token = opened.data.decode().split('data-field="token">')[1].split("<")[0]
    assert token.startswith("cbc_")
    redeem = desks.app.test_client().post(
        f"/api/v1/sessions/{session_id}/desktop/redeem", json={"token": token},
        headers={"Authorization": f"Bearer {desks.secret(session_id)}"},
    )  # fmt: skip
    assert redeem.status_code == 200 and redeem.get_json()["data"]["user"] == "ana"
    assert token not in ana.get("/sessions").data.decode()

    ended = ana.post(f"/sessions/{session_id}/end", data={"csrf": csrf(ana), "snapshot": "true"})
    assert ended.status_code == 303
    after = desks.session(session_id)
    assert after.state == "ending" and after.end_snapshot_id is not None
    assert 'data-action="end"' not in ana.get("/sessions").data.decode()


def test_refused_starts_show_the_sentence_and_change_nothing(desks: Desks) -> None:
    ana = sign_in(desks.app, "ana")
    assert f'max="{MAX_SESSION_HOURS}"' in ana.get("/sessions").data.decode()
    before = snapshot(desks.services)
    cases = [
        ({"profile": "std", "duration_h": "soon"}, 400, "give the duration in hours"),
        ({"profile": "std", "duration_h": "400"}, 400, f"at most {MAX_SESSION_HOURS})"),
        ({"profile": "std", "duration_h": "11"}, 400, "lasts at most 10 h"),
        ({"profile": "nope"}, 404, "No desktop profile named"),
        ({"profile": "secret"}, 403, "confidential"),
        ({"profile": "any"}, 400, "Name the project the session opens"),
        ({"profile": "std", "snapshot_id": "77"}, 404, "No snapshot 77"),
        ({"profile": "std", "user": "ben"}, 403, "Only TDs and admins start sessions"),
    ]
    for form, status, sentence in cases:
        answer = ana.post("/sessions", data={"csrf": csrf(ana), **form})
        assert answer.status_code == status, (form, answer.data)
        assert sentence in answer.data.decode(), form
    assert snapshot(desks.services) == before
    assert desks.cloud.calls == []


def test_forms_without_the_csrf_token_change_nothing(desks: Desks) -> None:
    ana, session_id = desks.at_work()
    before = snapshot(desks.services)
    for path, form in [
        ("/sessions", {"profile": "std"}),
        (f"/sessions/{session_id}/connect", {}),
        (f"/sessions/{session_id}/end", {"snapshot": "true"}),
        ("/snapshots", {"session_id": str(session_id)}),
        ("/snapshots/1/delete", {}),
    ]:
        forged = ana.post(path, data=form)
        assert forged.status_code == 403, path
        assert b"security token is missing" in forged.data
        stale = ana.post(path, data={"csrf": "not-the-token", **form})
        assert stale.status_code == 403, path
    assert snapshot(desks.services) == before


def test_an_artist_cannot_touch_anothers_session_from_the_page(desks: Desks) -> None:
    _, session_id = desks.at_work()
    ben = sign_in(desks.app, "ben")
    page = ben.get("/sessions").data.decode()
    assert f'data-session="{session_id}"' not in page
    before = snapshot(desks.services)
    for path in (f"/sessions/{session_id}/end", f"/sessions/{session_id}/connect"):
        answer = ben.post(path, data={"csrf": csrf(ben)})
        assert answer.status_code == 404, path
        assert f"No session {session_id} of yours" in answer.data.decode()
    taken = ben.post("/snapshots", data={"csrf": csrf(ben), "session_id": str(session_id)})
    assert taken.status_code == 404
    assert snapshot(desks.services) == before
    assert desks.session(session_id).state == "ready"


def test_a_td_sees_everyones_sessions_but_gets_no_token_of_theirs(desks: Desks) -> None:
    _, session_id = desks.at_work()
    tess = sign_in(desks.app, "tess", Role.TD)
    page = tess.get("/sessions").data.decode()
    assert "<th>User</th>" in page and f'data-session="{session_id}"' in page
    assert 'data-action="connect"' not in page and 'data-action="end"' in page
    before = snapshot(desks.services)
    answer = tess.post(f"/sessions/{session_id}/connect", data={"csrf": csrf(tess)})
    assert answer.status_code == 409
    assert "Only ana connects to session" in answer.data.decode()
    assert "cbc_" not in answer.data.decode()
    assert snapshot(desks.services) == before


def test_take_delete_archive_and_start_from_a_snapshot(desks: Desks) -> None:
    ana = sign_in(desks.app, "ana")
    ana.get("/sessions")
    session_id = desks.start(ana)
    assert b"None of your desktops runs now" in ana.get("/snapshots").data
    desks.ready(session_id)
    page = ana.get("/snapshots").data.decode()
    assert f'<option value="{session_id}">' in page
    for note, daily in (("before lighting", "true"), ("second", ""), ("third", "")):
        taken = ana.post("/snapshots", data={"csrf": csrf(ana), "session_id": str(session_id),
                                             "description": note, "schedule": daily})  # fmt: skip
        assert taken.status_code == 303, taken.data
    first, second, third = sorted(desks.snapshots(), key=lambda s: s.id)
    assert first.description == "before lighting" and first.state == "available"
    schedules = desks.services.context.database.db.execute(
        "SELECT session_id FROM snapshot_schedules"
    ).fetchall()
    assert [row[0] for row in schedules] == [session_id]  # only the first asked every day
    page = ana.get("/snapshots").data.decode()
    assert f"Snapshotted every day: session {session_id} " in page
    ben = sign_in(desks.app, "ben")
    assert "Snapshotted every day" not in ben.get("/snapshots").data.decode()
    assert f'data-snapshot="{first.id}"' in page and "before lighting" in page
    assert f"/sessions?snapshot={first.id}#start" in page

    chosen = ana.get(f"/sessions?snapshot={first.id}").data.decode()
    assert f'<option value="{first.id}" selected>' in chosen
    archived = ana.post(f"/snapshots/{second.id}/delete", data={"csrf": csrf(ana),
                                                                "archive": "true"})  # fmt: skip
    assert archived.status_code == 303
    deleted = ana.post(f"/snapshots/{third.id}/delete", data={"csrf": csrf(ana)})
    assert deleted.status_code == 303
    states = {s.id: s.state for s in desks.snapshots()}
    assert states == {first.id: "available", second.id: "archived"}  # deleted: not listed
    page = ana.get("/snapshots").data.decode()
    assert "memory://archive/" in page
    again = ana.post(f"/snapshots/{second.id}/delete", data={"csrf": csrf(ana)})
    assert again.status_code == 409 and b"is archived" in again.data

    restored = desks.start(ana, snapshot_id=str(first.id))
    assert desks.session(restored).snapshot_id == first.id
    launch = next(x for x in desks.cloud.launches if x.session_id == restored)
    assert launch.restore_backup_id == first.backup_id

    stop = f"/snapshots/schedules/{session_id}/stop"
    assert stop in ana.get("/snapshots").data.decode()
    assert ben.post(stop, data={"csrf": csrf(ben)}).status_code == 404
    assert desks.services.context.database.db.execute(
        "SELECT count(*) FROM snapshot_schedules"
    ).fetchone() == (1,)
    assert ana.post(stop, data={"csrf": csrf(ana)}).status_code == 303
    assert "Snapshotted every day" not in ana.get("/snapshots").data.decode()


def test_snapshot_refusals_show_the_sentence(desks: Desks) -> None:
    ana = sign_in(desks.app, "ana")
    ana.get("/snapshots")
    before = snapshot(desks.services)
    none = ana.post("/snapshots", data={"csrf": csrf(ana), "session_id": ""})
    assert none.status_code == 400 and b"Choose one of your running sessions" in none.data
    missing = ana.post("/snapshots/5/delete", data={"csrf": csrf(ana)})
    assert missing.status_code == 404 and b"No snapshot 5 of yours" in missing.data
    assert snapshot(desks.services) == before


def test_while_desktops_are_off_the_pages_say_so_and_offer_no_form(
    tmp_path: Path, clock: FakeClock
) -> None:
    app: Flask = create_app(Settings(data_dir=tmp_path / "d"), clock=clock)
    ana = sign_in(app, "ana")
    page = ana.get("/sessions")
    assert page.status_code == 200
    assert b'data-notice="desktops-off"' in page.data and b"Desktops are off" in page.data
    assert b'name="profile"' not in page.data
    assert b'name="session_id"' not in ana.get("/snapshots").data
    before = snapshot(services_of(app))
    answer = ana.post("/sessions", data={"csrf": csrf(ana), "profile": "std"})
    assert answer.status_code == 409 and b"Desktops are off: set [sessions] backend" in answer.data
    assert snapshot(services_of(app)) == before


def test_the_pages_need_signing_in_and_the_nav_links_them(desks: Desks) -> None:
    for path in ("/sessions", "/snapshots"):
        answer = desks.app.test_client().get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    pam = sign_in(desks.app, "pam", Role.PRODUCER)
    assert b'href="/sessions" class="active">Desktops</a>' in pam.get("/sessions").data
    assert b'href="/sessions"' in pam.get("/webhooks").data


def test_connect_before_ready_and_ending_what_has_ended_are_refused(desks: Desks) -> None:
    ana = sign_in(desks.app, "ana")
    ana.get("/sessions")
    session_id = desks.start(ana)
    before = snapshot(desks.services)
    early = ana.post(f"/sessions/{session_id}/connect", data={"csrf": csrf(ana)})
    assert early.status_code == 409
    assert f"Session {session_id} is provisioning: connect once it is ready" in early.data.decode()
    assert snapshot(desks.services) == before  # no token minted, nothing audited
    assert ana.post(f"/sessions/{session_id}/end", data={"csrf": csrf(ana)}).status_code == 303
    desks.clock.advance(desks.services.context.settings.sessions.end_grace_s + 1)
    desks.services.sessions.run_pass()
    assert desks.session(session_id).state == "ended"
    again = ana.post(f"/sessions/{session_id}/end", data={"csrf": csrf(ana)})
    assert again.status_code == 409
    assert f"Session {session_id} has ended already" in again.data.decode()
    assert "ended 20" in ana.get("/sessions").data.decode()  # when, not when it would have


def test_a_td_starts_a_desktop_for_an_artist(desks: Desks) -> None:
    sign_in(desks.app, "ana")
    tess = sign_in(desks.app, "tess", Role.TD)
    assert b'name="user"' in tess.get("/sessions").data
    session_id = desks.start(tess, user="ana")
    assert desks.session(session_id).user == "ana"
    assert desks.audit_actions(session_id) == ["session.start"]


def test_a_snapshot_of_anothers_is_never_offered_to_start_from(desks: Desks) -> None:
    ana, session_id = desks.at_work()
    taken = desks.take(ana, session_id)
    ben = sign_in(desks.app, "ben")
    page = ben.get(f"/sessions?snapshot={taken.id}").data.decode()
    assert f'<option value="{taken.id}"' not in page
    assert f'data-snapshot="{taken.id}"' not in ben.get("/snapshots").data.decode()
    before = snapshot(desks.services)
    answer = ben.post("/sessions", data={"csrf": csrf(ben), "profile": "std",
                                         "snapshot_id": str(taken.id)})  # fmt: skip
    assert (
        answer.status_code == 404 and f"No snapshot {taken.id} of ben&#39;s" in answer.data.decode()
    )
    refused = ben.post(f"/snapshots/{taken.id}/delete", data={"csrf": csrf(ben)})
    assert refused.status_code == 404
    assert snapshot(desks.services) == before


def test_a_form_after_the_sign_in_expired_leads_to_signing_in(desks: Desks) -> None:
    anonymous = desks.app.test_client()
    anonymous.get("/login")
    before = snapshot(desks.services)
    answer = anonymous.post("/sessions", data={"csrf": csrf(anonymous), "profile": "std"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=/sessions"
    assert snapshot(desks.services) == before


def test_a_snapshot_being_made_is_asked_of_the_cloud_when_listed(desks: Desks) -> None:
    desks.cloud.backups_finish_at_once = False
    ana, session_id = desks.at_work()
    taken = desks.take(ana, session_id)
    page = ana.get("/snapshots").data.decode()
    assert f'data-snapshot="{taken.id}" data-state="creating"' in page
    assert f'<option value="{taken.id}"' not in ana.get("/sessions").data.decode()
    desks.cloud.finish_backup(taken.backup_id)
    page = ana.get("/snapshots").data.decode()
    assert f'data-snapshot="{taken.id}" data-state="available"' in page
    assert f'<option value="{taken.id}"' in ana.get("/sessions").data.decode()
