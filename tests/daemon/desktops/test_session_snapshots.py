"""The sessions' side of snapshots, through real HTTP with the snapshot service over the memory
cloud: a session ends after its end snapshot is available, and starts from a snapshot's
backup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daemon.backends.desktops import BackupState
from tests.daemon.desktops.desk import Desk, running_desk


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with running_desk(tmp_path) as served:
        yield served


def test_an_end_snapshot_is_taken_first_and_waited_for(desk: Desk) -> None:
    desk.cloud.backups_finish_at_once = False
    session = desk.ready()
    ending = desk.data("DELETE", f"/sessions/{session['id']}?snapshot=true")
    assert ending["state"] == "ending" and ending["end_snapshot_id"] is not None
    taken = desk.data("GET", f"/snapshots/{ending['end_snapshot_id']}")
    assert taken["kind"] == "full" and taken["state"] == "creating"
    assert taken["description"] == f"At the end of session {session['id']}"
    desk.clock.advance(600)
    desk.services.sessions.run_pass()
    assert ("terminate", "memdesk-1") not in desk.cloud.calls  # the backup is still creating
    desk.cloud.finish_backup(taken["backup_id"])
    desk.services.sessions.run_pass()
    assert ("terminate", "memdesk-1") in desk.cloud.calls
    assert desk.data("GET", f"/sessions/{session['id']}")["state"] == "ended"
    assert desk.data("GET", f"/snapshots/{taken['id']}")["state"] == "available"
    assert desk.cloud.calls.index(("backup", taken["backup_id"])) < desk.cloud.calls.index(
        ("terminate", "memdesk-1")
    )


def test_a_session_starts_from_ones_own_snapshot(desk: Desk) -> None:
    first = desk.ready()
    taken = desk.data("POST", "/snapshots", json={"session_id": first["id"]})
    second = desk.start(snapshot_id=taken["id"])
    assert second["snapshot_id"] == taken["id"]
    assert desk.cloud.launches[-1].restore_backup_id == taken["backup_id"]
    restored = desk.data("GET", f"/audit/desktops?snapshot_id={taken['id']}", "tess")
    assert [(r["action"], r["actor"], r["session_id"]) for r in restored] == [
        ("snapshot.restore", "ana", second["id"]),  # newest first
        ("snapshot.create", "ana", first["id"]),
    ]
    before = desk.state()
    answer = desk.call("POST", "/sessions", "ben",
                       json={"profile": "std", "snapshot_id": taken["id"]})  # fmt: skip
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert desk.state() == before


def test_an_end_snapshot_lost_in_the_cloud_is_not_waited_for(desk: Desk) -> None:
    desk.cloud.backups_finish_at_once = False
    session = desk.ready()
    ending = desk.data("DELETE", f"/sessions/{session['id']}?snapshot=true")
    backup_id = desk.data("GET", f"/snapshots/{ending['end_snapshot_id']}")["backup_id"]
    desk.cloud.finish_backup(backup_id, BackupState.TERMINATED)  # gone before it was made
    desk.clock.advance(120)
    desk.services.sessions.run_pass()
    assert desk.data("GET", f"/sessions/{session['id']}")["state"] == "ended"
    assert ("terminate", "memdesk-1") in desk.cloud.calls


def test_an_end_snapshot_taken_while_the_pass_ends_the_session_is_still_waited_for(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.cloud.backups_finish_at_once = False
    session = desk.ready()
    take = desk.services.snapshots.take

    def racing(*args: Any, **kwargs: Any) -> Any:  # the pass ends it at its duration meanwhile
        taken = take(*args, **kwargs)
        with desk.services.context.database.transaction() as db:
            db.execute(
                "UPDATE desktop_sessions SET state = 'ending', end_requested_at = ?,"
                " end_reason = 'duration' WHERE id = ?", [desk.clock(), session["id"]],
            )  # fmt: skip
        return taken

    monkeypatch.setattr(desk.services.sessions.snapshots, "take", racing)
    ending = desk.data("DELETE", f"/sessions/{session['id']}?snapshot=true")
    assert ending["state"] == "ending" and ending["end_snapshot_id"] is not None
    desk.clock.advance(600)
    desk.services.sessions.run_pass()
    assert ("terminate", "memdesk-1") not in desk.cloud.calls  # the snapshot is waited for
