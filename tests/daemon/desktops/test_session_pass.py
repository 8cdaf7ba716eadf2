"""The sessions pass moves live sessions on with the clock and with what the cloud says: a
warning before the end, the end at the duration and after the idle timeout, boot and report
timeouts, a desktop lost behind the daemon's back, orphans terminated, the cost booked into
the show's spend. The desks are served over real HTTP; the pass is called as APScheduler
would, with the fake clock moved by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from common.desktop_settings import DesktopProfile
from daemon.backends.desktops import DesktopLaunch, DesktopState
from daemon.scheduling.desktop_sessions import Step
from daemon.services.session_pass import SessionPass
from tests.daemon.desktops.desk import Desk


def session_of(desk: Desk, session_id: int) -> dict[str, object]:
    data: dict[str, object] = desk.data("GET", f"/sessions/{session_id}", as_="root")
    return data


def test_the_desktop_is_warned_before_the_end(desk: Desk) -> None:
    session = desk.ready(duration_h=1)
    desk.clock.advance(3600 - 901)
    desk.report(session["id"])
    assert desk.services.sessions.run_pass() == 0
    desk.clock.advance(1)
    desk.report(session["id"])
    assert desk.services.sessions.run_pass() == 1
    reply = desk.report(session["id"]).json()["data"]
    assert reply["warning"] == ("This session ends at 09:00 UTC (in 15 min): save your work.")
    assert reply["end_now"] is False
    assert desk.services.sessions.run_pass() == 0  # warned once
    assert desk.audit(session["id"]) == ["session.start", "session.warn"]


def test_the_session_ends_at_its_duration_and_its_cost_is_booked(desk: Desk) -> None:
    session = desk.ready(duration_h=1)
    for _ in range(12):  # the desktop reports on; nobody idles
        desk.clock.advance(300)
        desk.report(session["id"], connected=True)
        desk.services.sessions.run_pass()
    ending = session_of(desk, session["id"])
    assert ending["state"] == "ending" and ending["detail"] == "its time is up"
    assert desk.report(session["id"]).json()["data"]["end_now"] is True
    desk.clock.advance(120)
    desk.services.sessions.run_pass()
    ended = session_of(desk, session["id"])
    assert ended["state"] == "ended"
    assert ended["cost"] == pytest.approx((3600 + 120) * 3.6 / 3600)
    usage = desk.services.context.database.db.execute(
        "SELECT user_name, project, seconds, cost FROM desktop_usage"
    ).fetchall()
    assert usage == [("ana", "show", 3720.0, pytest.approx(3.72))]
    assert desk.audit(session["id"]) == [
        "session.start",
        "session.warn",
        "session.end_requested",
        "session.ended",
    ]
    show = next(s for s in desk.data("GET", "/cloud/spend", as_="root")["shows"]
                if s["project"] == "show")  # fmt: skip
    assert show["spent"]["compute"] == pytest.approx(3.72) and show["committed"] == 0


def test_a_live_sessions_cost_so_far_is_committed_in_its_shows_spend(desk: Desk) -> None:
    desk.ready()
    desk.clock.advance(1800)
    show = next(s for s in desk.data("GET", "/cloud/spend", as_="root")["shows"]
                if s["project"] == "show")  # fmt: skip
    assert show["committed"] == pytest.approx(1.8) and show["spent"]["total"] == 0


def test_a_session_nobody_uses_ends_after_its_idle_timeout(desk: Desk) -> None:
    session = desk.ready(profile="any", project="show")  # its idle timeout: 1800 s
    for idle in range(1000, 1800, 100):  # it reports every 100 s, unused
        desk.report(session["id"], connected=False, idle_s=idle)
        assert desk.services.sessions.run_pass() == 0
        desk.clock.advance(100)
    assert desk.services.sessions.run_pass() == 1  # 1700 s reported, 100 s since
    ending = session_of(desk, session["id"])
    assert ending["state"] == "ending" and ending["detail"] == "idle for 30 min"


def test_a_used_session_does_not_end_idle(desk: Desk) -> None:
    session = desk.ready(profile="any", project="show")
    for _ in range(10):
        desk.clock.advance(170)
        desk.report(session["id"], connected=True, idle_s=0)
        desk.services.sessions.run_pass()
    assert session_of(desk, session["id"])["state"] == "ready"


def test_a_desktop_that_never_reports_fails_and_is_terminated(desk: Desk) -> None:
    session = desk.start()
    desk.clock.advance(899)
    desk.services.sessions.run_pass()
    assert session_of(desk, session["id"])["state"] == "provisioning"
    desk.clock.advance(1)
    desk.services.sessions.run_pass()
    failed = session_of(desk, session["id"])
    assert failed["state"] == "failed" and "never reported" in str(failed["detail"])
    assert ("terminate", "memdesk-1") in desk.cloud.calls
    assert failed["cost"] == pytest.approx(900 * 3.6 / 3600)  # the cloud billed its boot
    assert desk.audit(session["id"]) == ["session.start", "session.failed"]


def test_a_desktop_gone_silent_fails_and_is_terminated(desk: Desk) -> None:
    session = desk.ready()
    desk.clock.advance(180)
    desk.services.sessions.run_pass()
    failed = session_of(desk, session["id"])
    assert failed["state"] == "failed" and "stopped reporting" in str(failed["detail"])
    assert ("terminate", "memdesk-1") in desk.cloud.calls


def test_a_desktop_silent_only_while_the_daemon_was_down_is_not_failed(desk: Desk) -> None:
    session = desk.ready()
    desk.clock.advance(600)  # the daemon is down ten minutes; it starts again
    restarted = SessionPass(desk.services.context, desk.cloud, desk.services.snapshots)
    assert restarted.run() == 0
    assert session_of(desk, session["id"])["state"] == "ready"
    desk.clock.advance(179)
    assert restarted.run() == 0
    desk.clock.advance(1)  # and silent as long again since the start: it has failed
    assert restarted.run() == 1
    failed = session_of(desk, session["id"])
    assert failed["state"] == "failed" and "stopped reporting" in str(failed["detail"])


def test_a_desktop_lost_behind_the_daemons_back_ends_its_session(desk: Desk) -> None:
    session = desk.ready()
    desk.cloud.forget("memdesk-1")
    desk.services.sessions.run_pass()
    failed = session_of(desk, session["id"])
    assert failed["state"] == "failed" and failed["detail"] == "its desktop instance is gone"
    assert ("terminate", "memdesk-1") not in desk.cloud.calls
    assert desk.audit(session["id"])[-1] == "session.failed"
    assert desk.report(session["id"]).json()["data"]["end_now"] is True


def test_a_session_told_to_end_whose_desktop_went_meanwhile_ends_as_asked(desk: Desk) -> None:
    session = desk.ready()
    desk.data("DELETE", f"/sessions/{session['id']}")
    desk.cloud.forget("memdesk-1")  # gone while the daemon was down, say
    desk.clock.advance(120)
    assert desk.services.sessions.run_pass() == 1
    ended = session_of(desk, session["id"])
    assert ended["state"] == "ended" and ended["cost"] > 0
    assert desk.audit(session["id"])[-1] == "session.ended"


def test_instances_no_live_session_holds_are_terminated(desk: Desk) -> None:
    session = desk.ready()
    stray = desk.cloud.launch(
        DesktopLaunch(
            session_id=None,
            name="stray",
            profile=DesktopProfile(name="std"),  # type: ignore[arg-type]
            user="x",
            project="show",
            daemon_url="http://d",
            secret="cbs_x",
        )
    )
    assert desk.services.sessions.run_pass() == 1
    assert ("terminate", stray.id) in desk.cloud.calls
    assert ("terminate", desk.instance(session["id"])) not in desk.cloud.calls
    record = desk.data("GET", "/audit/desktops?limit=1", as_="root")[0]
    assert record["action"] == "session.terminate_orphan" and record["detail"] == stray.id
    assert session_of(desk, session["id"])["state"] == "ready"


def test_an_orphan_already_terminating_is_not_terminated_again(desk: Desk) -> None:
    session = desk.ready()
    desk.data("DELETE", f"/sessions/{session['id']}")
    desk.clock.advance(120)
    desk.services.sessions.run_pass()
    instance = desk.instance(session["id"])
    desk.cloud.instances[instance] = replace(
        desk.cloud.instances[instance], state=DesktopState.TERMINATING
    )  # the cloud takes its time
    assert desk.services.sessions.run_pass() == 0
    assert desk.cloud.calls.count(("terminate", instance)) == 1
    assert "session.terminate_orphan" not in desk.audit(session["id"])


def test_a_cloud_that_cannot_list_judges_nothing_lost(desk: Desk) -> None:
    session = desk.ready()

    def broken() -> list[object]:
        raise RuntimeError("the cloud is unreachable")

    desk.cloud.desktops = broken  # type: ignore[method-assign]
    desk.services.sessions.run_pass()
    assert session_of(desk, session["id"])["state"] == "ready"


def test_a_deactivated_users_session_ends(desk: Desk) -> None:
    session = desk.ready()
    ana = next(u for u in desk.data("GET", "/users", as_="root") if u["name"] == "ana")
    desk.services.sessions.run_pass()
    assert session_of(desk, session["id"])["state"] == "ready"  # active: nothing happens
    desk.data("PUT", f"/users/{ana['id']}", as_="root", json={"active": False})
    desk.services.sessions.run_pass()
    ending = session_of(desk, session["id"])
    assert ending["state"] == "ending" and ending["detail"] == "ana was deactivated or deleted"
    desk.clock.advance(120)
    desk.services.sessions.run_pass()
    assert session_of(desk, session["id"])["state"] == "ended"
    assert desk.cloud.desktops() == []


def test_an_instance_recorded_after_the_pass_read_the_session_is_terminated_and_booked(
    desk: Desk,
) -> None:
    session = desk.ready()
    instance = desk.instance(session["id"])
    desk.data("DELETE", f"/sessions/{session['id']}")
    desk.clock.advance(120)
    db = desk.services.context.database.db
    row = db.execute("SELECT * FROM desktop_sessions WHERE id = ?", [session["id"]]).fetchone()
    columns = [c[0] for c in db.execute("SELECT * FROM desktop_sessions").description]
    # What the pass read before the launch recorded the instance.
    read = dict(zip(columns, row, strict=True)) | {"instance_id": None}
    passes = desk.services.sessions.passes
    assert passes._apply(Step.TERMINATE, read, desk.clock()) is True
    assert ("terminate", instance) in desk.cloud.calls
    ended = session_of(desk, session["id"])
    assert ended["state"] == "ended" and ended["cost"] > 0
    booked = db.execute("SELECT seconds, cost FROM desktop_usage").fetchall()
    assert booked == [(120.0, pytest.approx(120 * 3.6 / 3600))]
