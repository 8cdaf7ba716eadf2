"""``/api/v1/snapshots`` over real HTTP: taking, seeing, archiving and deleting snapshots of
desktop sessions, who may touch which, and every refusal changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from common.accounts import Role
from common.errors import SnapshotUnavailable
from daemon.app import create_app
from daemon.backends.desktops import BackupKind, BackupState
from daemon.container import Services
from tests.conftest import FakeClock, user_token
from tests.daemon.desktops.memory_backend import MemoryDesktops
from tests.daemon.desktops.snapshot_helpers import (
    RefusingDesktops,
    audit,
    desktop_settings,
    snapshot_rows,
    start_session,
)
from tests.serving import serve

ROLES = {"ana": Role.ARTIST, "ben": Role.ARTIST, "tess": Role.TD}


@dataclass
class Farm:
    url: str
    services: Services
    backend: RefusingDesktops
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return requests.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=10, **kwargs
        )

    def unchanged(self) -> tuple[object, ...]:
        """What a refused request must leave as it was: the rows and the cloud."""
        backups = {k: v.state for k, v in self.backend.backups.items()}
        return snapshot_rows(self.services), list(self.backend.calls), backups


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    clock = FakeClock()
    backend = RefusingDesktops(clock)
    app = create_app(desktop_settings(tmp_path), clock=clock, desktop_backend=backend)
    services: Services = app.extensions["cloudburst"]
    tokens = {name: user_token(services, name, role) for name, role in ROLES.items()}
    with serve(app) as url:
        yield Farm(url, services, backend, tokens)


def take(farm: Farm, who: str = "ana", **body: Any) -> dict[str, Any]:
    response = farm.call(who, "POST", "/snapshots", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_snapshot_is_made_then_available_once_the_cloud_says_so(farm: Farm) -> None:
    farm.backend.backups_finish_at_once = False
    session = start_session(farm.services, farm.backend, "ana")
    made = take(farm, session_id=session["id"], description="before the big change")
    assert (made["state"], made["kind"], made["user"], made["scheduled"]) == (
        "creating", "full", "ana", False,
    )  # fmt: skip
    assert made["instance_id"] == session["instance_id"]
    assert farm.backend.backups[made["backup_id"]].kind is BackupKind.FULL
    assert audit(farm.services) == [("ana", "snapshot.create", made["id"])]

    still = farm.call("ana", "GET", f"/snapshots/{made['id']}").json()["data"]
    assert still["state"] == "creating"
    farm.backend.finish_backup(made["backup_id"])
    done = farm.call("ana", "GET", f"/snapshots/{made['id']}").json()["data"]
    assert (done["state"], done["size_gb"]) == ("available", 12.5)
    listed = farm.call("ana", "GET", "/snapshots").json()["data"]
    assert [(s["id"], s["state"]) for s in listed] == [(made["id"], "available")]


def test_a_backup_the_cloud_could_not_make_is_failed_and_audited(farm: Farm) -> None:
    farm.backend.backups_finish_at_once = False
    session = start_session(farm.services, farm.backend, "ana")
    made = take(farm, session_id=session["id"])
    farm.backend.finish_backup(made["backup_id"], BackupState.FAULTY)
    seen = farm.call("ana", "GET", f"/snapshots/{made['id']}").json()["data"]
    assert seen["state"] == "failed" and "could not make" in seen["detail"]
    assert audit(farm.services)[-1] == ("daemon", "snapshot.failed", made["id"])


def test_a_desktop_instance_names_its_session(farm: Farm) -> None:
    session = start_session(farm.services, farm.backend, "ana")
    made = take(farm, instance_id=session["instance_id"])
    assert made["session_id"] == session["id"]


@pytest.mark.parametrize(
    "body", [{}, {"description": "x"}, {"session_id": 1, "instance_id": "memdesk-1"}]
)
def test_both_or_neither_of_session_and_instance_is_a_400(farm: Farm, body: dict) -> None:
    start_session(farm.services, farm.backend, "ana")
    before = farm.unchanged()
    response = farm.call("ana", "POST", "/snapshots", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert "exactly one of session_id" in response.json()["message"]
    assert farm.unchanged() == before


def test_someone_elses_or_unknown_snapshots_are_not_found(farm: Farm) -> None:
    session = start_session(farm.services, farm.backend, "ana")
    made = take(farm, session_id=session["id"])
    before = farm.unchanged()
    for method, path, body in [
        ("POST", "/snapshots", {"session_id": session["id"]}),
        ("POST", "/snapshots", {"instance_id": session["instance_id"]}),
        ("GET", f"/snapshots/{made['id']}", None),
        ("DELETE", f"/snapshots/{made['id']}", None),
        ("DELETE", f"/snapshots/{made['id']}?archive=true", None),
    ]:
        response = farm.call("ben", method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "not_found"
        assert "of yours" in response.json()["message"]
    for method, path, body in [
        ("GET", "/snapshots/999", None),
        ("DELETE", "/snapshots/999", None),
        ("POST", "/snapshots", {"session_id": 999}),
        ("POST", "/snapshots", {"instance_id": "memdesk-999"}),
    ]:
        assert farm.call("ana", method, path, json=body).status_code == 404
    assert farm.call("ben", "GET", "/snapshots").json()["data"] == []
    refused = farm.call("ben", "GET", "/snapshots", params={"user": "ana"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert farm.unchanged() == before


def test_a_td_sees_and_acts_on_anyones_snapshots(farm: Farm) -> None:
    mine = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    his = take(farm, "ben", session_id=start_session(farm.services, farm.backend, "ben")["id"])
    everyone = farm.call("tess", "GET", "/snapshots").json()["data"]
    assert {s["id"] for s in everyone} == {mine["id"], his["id"]}
    anas = farm.call("tess", "GET", "/snapshots", params={"user": "ana"}).json()["data"]
    assert [s["id"] for s in anas] == [mine["id"]]
    by_session = {"session_id": his["session_id"]}
    assert [s["id"] for s in farm.call("tess", "GET", "/snapshots", params=by_session)
            .json()["data"]] == [his["id"]]  # fmt: skip
    assert farm.call("ana", "GET", "/snapshots", params=by_session).json()["data"] == []
    deleted = farm.call("tess", "DELETE", f"/snapshots/{mine['id']}")
    assert deleted.json()["data"]["state"] == "deleted"
    assert audit(farm.services)[-1] == ("tess", "snapshot.delete", mine["id"])


@pytest.mark.parametrize("case", ["provisioning", "ended", "instance gone"])
def test_a_session_without_a_running_desktop_is_a_409(farm: Farm, case: str) -> None:
    if case == "instance gone":
        session = start_session(farm.services, farm.backend, "ana")
        farm.backend.forget(session["instance_id"])
    else:
        session = start_session(farm.services, farm.backend, "ana", state=case,
                                running=case == "ended")  # fmt: skip
    before = farm.unchanged()
    response = farm.call("ana", "POST", "/snapshots", json={"session_id": session["id"]})
    assert response.status_code == 409
    assert response.json()["code"] == "no_running_desktop"
    assert "running desktop" in response.json()["message"]
    assert farm.unchanged() == before


def test_an_instance_tagged_for_another_session_is_not_snapshotted(farm: Farm) -> None:
    mine = start_session(farm.services, farm.backend, "ana")
    other = start_session(farm.services, farm.backend, "ana")
    with farm.services.context.database.transaction() as tx:  # a row pointing at the wrong VM
        tx.execute("UPDATE desktop_sessions SET instance_id = NULL WHERE id = ?", [other["id"]])
        tx.execute(
            "UPDATE desktop_sessions SET instance_id = ? WHERE id = ?",
            [other["instance_id"], mine["id"]],
        )
    before = farm.unchanged()
    response = farm.call("ana", "POST", "/snapshots", json={"session_id": mine["id"]})
    assert response.status_code == 409 and response.json()["code"] == "no_running_desktop"
    assert farm.unchanged() == before


def test_a_backup_the_cloud_refuses_is_audited_and_recorded_nowhere_else(farm: Farm) -> None:
    session = start_session(farm.services, farm.backend, "ana")
    farm.backend.refuse_backups = True
    response = farm.call("ana", "POST", "/snapshots", json={"session_id": session["id"]})
    assert response.status_code == 503 and response.json()["code"] == "desktop_refused"
    assert "ask IT" in response.json()["message"]
    assert snapshot_rows(farm.services)["desktop_snapshots"] == []
    assert audit(farm.services) == [("ana", "snapshot.failed", None)]


def test_schedule_true_snapshots_the_session_every_day(farm: Farm) -> None:
    session = start_session(farm.services, farm.backend, "ana")
    made = take(farm, session_id=session["id"], schedule=True)
    assert made["scheduled"] is False  # the one taken now is the person's own
    schedules = snapshot_rows(farm.services)["snapshot_schedules"]
    assert [row[0] for row in schedules] == [session["id"]]
    detail = farm.services.context.database.db.execute(
        "SELECT detail FROM desktop_audit WHERE snapshot_id = ?", [made["id"]]
    ).fetchone()[0]
    assert "every day" in detail


def test_archive_copies_then_deletes_the_backup(farm: Farm) -> None:
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    response = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params={"archive": "true"})
    assert response.status_code == 200, response.text
    archived = response.json()["data"]
    assert archived["state"] == "archived"
    assert archived["archive_uri"] == f"memory://archive/{made['backup_id']}"
    assert farm.backend.calls[-2:] == [("archive_backup", made["backup_id"]),
                                       ("delete_backup", made["backup_id"])]  # fmt: skip
    assert farm.backend.backups[made["backup_id"]].state is BackupState.TERMINATED
    assert audit(farm.services)[-1] == ("ana", "snapshot.archive", made["id"])
    # Asked again: the same answer, nothing more done.
    calls = list(farm.backend.calls)
    again = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params={"archive": "true"})
    assert again.json()["data"]["state"] == "archived" and farm.backend.calls == calls
    # An archived snapshot has no backup left here to delete: the archive keeps its copy.
    before = farm.unchanged()
    refused = farm.call("ana", "DELETE", f"/snapshots/{made['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "snapshot_unavailable"
    assert archived["archive_uri"] in refused.json()["message"]
    assert farm.unchanged() == before
    assert [s["state"] for s in farm.call("ana", "GET", "/snapshots").json()["data"]] == [
        "archived"
    ]


def test_delete_removes_the_backup_and_the_snapshot_from_the_list(farm: Farm) -> None:
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    deleted = farm.call("ana", "DELETE", f"/snapshots/{made['id']}").json()["data"]
    assert deleted["state"] == "deleted"
    assert farm.backend.backups[made["backup_id"]].state is BackupState.TERMINATED
    assert farm.call("ana", "GET", "/snapshots").json()["data"] == []
    assert farm.call("ana", "GET", f"/snapshots/{made['id']}").json()["data"]["state"] == (
        "deleted"
    )
    assert audit(farm.services)[-1] == ("ana", "snapshot.delete", made["id"])
    archive = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params={"archive": "true"})
    assert archive.status_code == 409 and archive.json()["code"] == "snapshot_unavailable"


@pytest.mark.parametrize("refusal", ["archive", "delete after the copy"])
def test_a_refused_archive_leaves_the_snapshot_available(farm: Farm, refusal: str) -> None:
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    if refusal == "archive":
        farm.backend.refuse_archives = True
    else:
        farm.backend.refuse_deletes = True
    response = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params={"archive": "true"})
    assert response.status_code == 503 and response.json()["code"] == "desktop_refused"
    seen = farm.call("ana", "GET", f"/snapshots/{made['id']}").json()["data"]
    assert seen["state"] == "available" and "failed" in seen["detail"]
    assert farm.backend.backups[made["backup_id"]].state is BackupState.AVAILABLE
    assert audit(farm.services)[-1] == ("ana", "snapshot.failed", made["id"])
    # Once the cloud takes it, the same request archives it.
    farm.backend.refuse_archives = farm.backend.refuse_deletes = False
    done = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params={"archive": "true"})
    assert done.json()["data"]["state"] == "archived"


def test_a_snapshot_being_made_is_neither_archived_nor_deleted(farm: Farm) -> None:
    farm.backend.backups_finish_at_once = False
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    before = farm.unchanged()
    for params in ({}, {"archive": "true"}):
        response = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params=params)
        assert response.status_code == 409 and "creating" in response.json()["message"]
    assert farm.unchanged() == before


def test_a_snapshot_being_archived_is_not_archived_twice(farm: Farm) -> None:
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    with farm.services.context.database.transaction() as tx:  # another request is archiving it
        tx.execute("UPDATE desktop_snapshots SET state = 'archiving' WHERE id = ?", [made["id"]])
    before = farm.unchanged()
    for params in ({}, {"archive": "true"}):
        response = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params=params)
        assert response.status_code == 409 and response.json()["code"] == "snapshot_unavailable"
        assert "archiving" in response.json()["message"]
    assert farm.unchanged() == before


def test_a_bad_archive_flag_is_a_400(farm: Farm) -> None:
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    before = farm.unchanged()
    response = farm.call("ana", "DELETE", f"/snapshots/{made['id']}", params={"archive": "maybe"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_input"
    assert farm.unchanged() == before


def test_restore_source_gives_ones_own_available_backup(farm: Farm) -> None:
    snapshots = farm.services.snapshots
    farm.backend.backups_finish_at_once = False
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    with pytest.raises(SnapshotUnavailable, match="creating"):
        snapshots.restore_source(made["id"], "ana")
    farm.backend.finish_backup(made["backup_id"])
    assert snapshots.restore_source(made["id"], "ana") == made["backup_id"]
    with pytest.raises(Exception, match="No snapshot") as other:
        snapshots.restore_source(made["id"], "ben")
    assert getattr(other.value, "status", None) == 404
    with pytest.raises(Exception, match="No snapshot"):
        snapshots.restore_source(999, "ana")
    farm.call("ana", "DELETE", f"/snapshots/{made['id']}")
    with pytest.raises(SnapshotUnavailable, match="deleted"):
        snapshots.restore_source(made["id"], "ana")


def test_take_at_a_sessions_end(farm: Farm) -> None:
    session = start_session(farm.services, farm.backend, "ana", state="ending")
    taken = farm.services.snapshots.take(
        session["id"], kind=BackupKind.FULL, description=f"At the end of session {session['id']}",
        scheduled=False, actor="ana",
    )  # fmt: skip
    assert (taken.session_id, taken.kind, taken.state) == (session["id"], "full", "available")
    assert audit(farm.services) == [("ana", "snapshot.create", taken.id)]


def test_desktops_off_lists_but_takes_nothing(tmp_path: Path) -> None:
    app = create_app(desktop_settings(tmp_path), clock=FakeClock())
    services: Services = app.extensions["cloudburst"]
    token = user_token(services, "ana", Role.ARTIST)
    headers = {"Authorization": f"Bearer {token}"}
    session = start_session(services, MemoryDesktops(), "ana", running=False)
    with serve(app) as url:
        listed = requests.get(f"{url}/api/v1/snapshots", headers=headers, timeout=10)
        refused = requests.post(
            f"{url}/api/v1/snapshots", json={"session_id": session["id"]}, headers=headers,
            timeout=10,
        )  # fmt: skip
    assert listed.status_code == 200 and listed.json()["data"] == []
    assert refused.status_code == 409 and refused.json()["code"] == "desktops_off"
    assert "[sessions] backend" in refused.json()["message"]
    assert services.snapshots.run_schedules() == 0


def test_daily_snapshots_stop_when_their_owner_says_so(farm: Farm) -> None:
    session = start_session(farm.services, farm.backend, "ana")
    take(farm, session_id=session["id"], schedule=True)
    path = f"/snapshots/schedules/{session['id']}"
    before = farm.unchanged()
    answer = farm.call("ben", "DELETE", path)
    assert answer.status_code == 404 and "of yours" in answer.json()["message"]
    assert farm.unchanged() == before

    stopped = farm.call("ana", "DELETE", path)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["data"] == {"session_id": session["id"], "scheduled": False}
    assert snapshot_rows(farm.services)["snapshot_schedules"] == []
    clock = farm.services.context.clock
    assert isinstance(clock, FakeClock)
    clock.advance(2 * 86400)  # two days' slots pass: nothing is taken
    assert farm.services.snapshots.run_schedules() == 0
    assert [r[1] for r in audit(farm.services)] == ["snapshot.create", "snapshot.unscheduled"]
    again = farm.call("ana", "DELETE", path)  # asking again changes nothing
    assert again.status_code == 200 and len(audit(farm.services)) == 2


def test_an_archive_cut_short_by_a_daemon_stop_is_recovered(farm: Farm) -> None:
    session = start_session(farm.services, farm.backend, "ana")
    kept, gone = take(farm, session_id=session["id"]), take(farm, session_id=session["id"])
    db = farm.services.context.database
    with db.transaction() as tx:  # as a daemon stopped mid-archive leaves them
        tx.execute("UPDATE desktop_snapshots SET state = 'archiving'")
    farm.backend.delete_backup(gone["backup_id"])  # this one's backup was deleted already
    assert farm.services.snapshots.recover_archives() == 2
    again = farm.call("ana", "GET", f"/snapshots/{kept['id']}").json()["data"]
    assert again["state"] == "available" and "archive it again" in again["detail"]
    lost = farm.call("ana", "GET", f"/snapshots/{gone['id']}").json()["data"]
    assert lost["state"] == "failed" and "look for the copy" in lost["detail"]
    archived = farm.call("ana", "DELETE", f"/snapshots/{kept['id']}?archive=true")
    assert archived.status_code == 200 and archived.json()["data"]["state"] == "archived"
    assert farm.services.snapshots.recover_archives() == 0


def test_a_delete_claims_the_snapshot_before_it_asks_the_cloud(
    farm: Farm, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = start_session(farm.services, farm.backend, "ana")
    made = take(farm, session_id=session["id"])
    seen: list[str] = []
    delete = farm.backend.delete_backup

    def watched(backup_id: str) -> None:  # what an archive starting now would find
        row = farm.services.context.database.db.execute(
            "SELECT state FROM desktop_snapshots WHERE id = ?", [made["id"]]
        ).fetchone()
        seen.append(row[0])
        delete(backup_id)

    monkeypatch.setattr(farm.backend, "delete_backup", watched)
    farm.backend.refuse_deletes = True
    before = farm.unchanged()
    refused = farm.call("ana", "DELETE", f"/snapshots/{made['id']}")
    assert refused.status_code == 503
    assert farm.unchanged() == before  # put back as it was: available, no audit record
    farm.backend.refuse_deletes = False
    assert farm.call("ana", "DELETE", f"/snapshots/{made['id']}").status_code == 200
    assert seen == ["deleted", "deleted"]  # claimed each time before the cloud was asked


def test_the_list_asks_the_cloud_of_snapshots_being_made(farm: Farm) -> None:
    farm.backend.backups_finish_at_once = False
    made = take(farm, session_id=start_session(farm.services, farm.backend, "ana")["id"])
    listed = farm.call("ana", "GET", "/snapshots").json()["data"]
    assert [s["state"] for s in listed] == ["creating"]
    farm.backend.finish_backup(made["backup_id"])
    listed = farm.call("ana", "GET", "/snapshots").json()["data"]
    assert [s["state"] for s in listed] == ["available"]
    assert farm.call("ana", "GET", f"/snapshots/{made['id']}").json()["data"] == listed[0]
