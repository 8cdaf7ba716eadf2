"""The sessions' side of snapshots, through real HTTP, with a stand-in of the snapshots service
(``SnapshotTaker``) over the memory cloud: a session ends after its end snapshot is available,
and starts from a snapshot's backup."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.errors import Conflict, NotFound
from common.models import Snapshot
from daemon.backends.desktops import BackupKind, BackupState
from daemon.services.desktop_sessions import SessionService
from daemon.storage import desktop_sessions as store
from tests.daemon.desktops.desk import Desk, running_desk


class StandInSnapshots:
    """Snapshots kept in memory, each a backup of the memory cloud."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.ids = itertools.count(1)
        self.snapshots: dict[int, Snapshot] = {}

    def take(
        self, session_id: int, *, kind: BackupKind, description: str, scheduled: bool, actor: str
    ) -> Snapshot:
        row = store.get_session(self.desk.services.context.database.db, session_id)
        assert row is not None
        backup = self.desk.cloud.backup(row["instance_id"], kind, description)
        snapshot = Snapshot(
            id=next(self.ids), session_id=session_id, instance_id=row["instance_id"],
            user=row["user_name"], project=row["project"], profile=row["profile"],
            description=description, kind=kind.value, scheduled=scheduled, state="creating",
            created_at=datetime.now(UTC), backup_id=backup.id,
        )  # fmt: skip
        self.snapshots[snapshot.id] = snapshot
        return snapshot

    def refresh(self, snapshot_id: int) -> Snapshot:
        snapshot = self.snapshots.get(snapshot_id)
        if snapshot is None:
            raise NotFound(f"No snapshot {snapshot_id}.")
        backup = self.desk.cloud.backup_info(snapshot.backup_id)
        state = "available" if backup and backup.state is BackupState.AVAILABLE else "creating"
        return snapshot.model_copy(update={"state": state})

    def restore_source(self, snapshot_id: int, user_name: str) -> str:
        snapshot = self.snapshots.get(snapshot_id)
        if snapshot is None or snapshot.user != user_name:
            raise NotFound(f"No snapshot {snapshot_id} of yours.")
        if self.refresh(snapshot_id).state != "available":
            raise Conflict(f"Snapshot {snapshot_id} is not available yet.")
        return snapshot.backup_id


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with running_desk(tmp_path) as served:
        services = served.services
        services.sessions.close()
        services.sessions = SessionService(
            services.context, served.cloud, StandInSnapshots(served), services.projects
        )
        yield served


def snapshots(desk: Desk) -> StandInSnapshots:
    taker = desk.services.sessions.snapshots
    assert isinstance(taker, StandInSnapshots)
    return taker


def test_an_end_snapshot_is_taken_first_and_waited_for(desk: Desk) -> None:
    desk.cloud.backups_finish_at_once = False
    session = desk.ready()
    ending = desk.data("DELETE", f"/sessions/{session['id']}?snapshot=true")
    assert ending["state"] == "ending" and ending["end_snapshot_id"] == 1
    [taken] = snapshots(desk).snapshots.values()
    assert taken.kind == "full" and taken.description == f"At the end of session {session['id']}"
    desk.clock.advance(600)
    desk.services.sessions.run_pass()
    assert ("terminate", "memdesk-1") not in desk.cloud.calls  # the backup is still creating
    desk.cloud.finish_backup(taken.backup_id)
    desk.services.sessions.run_pass()
    assert ("terminate", "memdesk-1") in desk.cloud.calls
    assert desk.data("GET", f"/sessions/{session['id']}")["state"] == "ended"
    assert desk.cloud.calls.index(("backup", taken.backup_id)) < desk.cloud.calls.index(
        ("terminate", "memdesk-1")
    )


def test_a_session_starts_from_ones_own_snapshot(desk: Desk) -> None:
    first = desk.ready()
    taken = snapshots(desk).take(
        first["id"], kind=BackupKind.FULL, description="x", scheduled=False, actor="ana"
    )
    second = desk.start(snapshot_id=taken.id)
    assert second["snapshot_id"] == taken.id
    assert desk.cloud.launches[-1].restore_backup_id == taken.backup_id
    before = desk.state()
    answer = desk.call("POST", "/sessions", "ben", json={"profile": "std", "snapshot_id": 1})
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert desk.state() == before


def test_an_end_snapshot_deleted_meanwhile_is_not_waited_for(desk: Desk) -> None:
    desk.cloud.backups_finish_at_once = False
    session = desk.ready()
    desk.data("DELETE", f"/sessions/{session['id']}?snapshot=true")
    snapshots(desk).snapshots.clear()  # its refresh now answers 404
    desk.clock.advance(120)
    desk.services.sessions.run_pass()
    assert desk.data("GET", f"/sessions/{session['id']}")["state"] == "ended"
