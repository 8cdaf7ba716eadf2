"""Boot volume snapshots of artists' desktops: taken by hand, at a session's end, and every day
on a schedule with retention; listed, refreshed from the cloud, archived and deleted.

Who may touch one: its own person (``Permission.SESSIONS``), or TDs and admins
(``Permission.SESSIONS_MANAGE``); anyone else is told there is no such snapshot, so an id
says nothing of another's. Every action appends one ``desktop_audit`` record in its own
transaction. Calls to the cloud are made outside any database transaction: a change is
claimed first (compare-and-set), and put back when the cloud says no, so a refusal leaves the
snapshot as it was.

The scheduled pass (``run_schedules``) runs on the daemon's scheduler every ``[sessions]
snapshot_interval_s``: the day's slot is ``scheduling/snapshot_days.py``'s, the kind and what
retention keeps are ``daemon.backup.policy``'s (the rule of the daemon's own backups).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from common.backup_settings import WEEKDAYS
from common.errors import (
    CloudburstError,
    DesktopsOff,
    Forbidden,
    NoRunningDesktop,
    NotFound,
    SnapshotUnavailable,
)
from common.models import RUNNING_SESSION_STATES, Snapshot, SnapshotCreate, SnapshotQuery
from common.models import BackupKind as PolicyKind
from daemon.auth import Permission, Principal
from daemon.auth.rules import may_touch_desktop
from daemon.backends.desktops import BackupKind, BackupState, DesktopBackend, VolumeBackup
from daemon.backup import policy
from daemon.context import Context, to_datetime
from daemon.scheduling import snapshot_days
from daemon.storage import desktop_audit
from daemon.storage import desktop_sessions as session_store
from daemon.storage import desktop_snapshots as store

logger = logging.getLogger(__name__)

#: The actor of what the daemon does on its own.
DAEMON = "daemon"

_STATES = {
    BackupState.CREATING: "creating",
    BackupState.AVAILABLE: "available",
    BackupState.FAULTY: "failed",
    BackupState.TERMINATED: "failed",
}


class SnapshotService:
    """Snapshots of desktop sessions' boot volumes on ``backend`` (None: desktops are off;
    the stored snapshots can still be listed)."""

    def __init__(self, context: Context, backend: DesktopBackend | None) -> None:
        self.ctx = context
        self.backend = backend

    # --- what the API calls -------------------------------------------------------------------

    def create(self, create: SnapshotCreate, caller: Principal) -> Snapshot:
        """``POST /snapshots``: a full snapshot of one of the caller's sessions (anyone's, for
        TDs and admins), named by its id or its desktop instance's; ``schedule`` also takes one
        every day from now on.

        Raises:
            NotFound: no such session or instance, or someone else's.
            DesktopsOff, NoRunningDesktop: nothing to snapshot now.
            DesktopRefused, CloudError: the cloud said no (nothing is recorded but the audit).
        """
        db = self.ctx.database.db
        if create.session_id is not None:
            session = session_store.get_session(db, create.session_id)
            what = f"session {create.session_id}"
        else:
            assert create.instance_id is not None  # the model asks for exactly one
            session = session_store.sessions_of_instances(db, [create.instance_id]).get(
                create.instance_id
            )
            what = f"desktop instance {create.instance_id}"
        if session is None or not may_touch_desktop(caller, session):
            raise NotFound(f"No {what} of yours: GET /api/v1/sessions lists your sessions.")
        return self._take(
            session, BackupKind.FULL, create.description, scheduled=False, actor=caller.name,
            now=self.ctx.now(), schedule=create.schedule,
        )  # fmt: skip

    def list(self, query: SnapshotQuery, caller: Principal) -> list[Snapshot]:
        """The caller's snapshots, newest first (TDs and admins: everyone's, or ``user``'s);
        deleted ones are left out. Those still being made are first asked of the cloud (as a
        GET of one is), so a finished one is never listed as being made.

        Raises:
            Forbidden: ``user`` names another person and the caller may not see theirs.
        """
        manager = caller.may(Permission.SESSIONS_MANAGE)
        if query.user is not None and query.user != caller.name and not manager:
            raise Forbidden(
                "Only TDs and admins may list another person's snapshots; leave out 'user' to "
                "list yours."
            )
        user = query.user if manager else caller.name
        rows = store.list_snapshots(
            self.ctx.database.db, user_name=user, session_id=query.session_id
        )
        return [_snapshot(self._current(row)) for row in rows]

    def get(self, snapshot_id: int, caller: Principal) -> Snapshot:
        """One snapshot of the caller's (anyone's, for TDs and admins); one still being made
        is first asked of the cloud.

        Raises:
            NotFound: no such snapshot, or someone else's.
        """
        self._mine(snapshot_id, caller)
        return self.refresh(snapshot_id)

    def delete(self, snapshot_id: int, archive: bool, caller: Principal) -> Snapshot:
        """Deletes a snapshot's backup (``deleted``), or with ``archive`` first copies it to
        the archive (``archived``, with ``archive_uri``). Asking again for what is done
        answers the snapshot as it is.

        Raises:
            NotFound: no such snapshot, or someone else's.
            DesktopsOff: no desktop backend.
            SnapshotUnavailable: still being made, being archived, already archived or deleted.
            DesktopRefused, CloudError: the cloud said no; the snapshot is as it was.
        """
        row = self._mine(snapshot_id, caller)
        backend = self._backend()
        if row["state"] == "creating":
            row = self._refreshed(row, backend)
        if archive:
            return self._archive(row, backend, caller.name)
        return self._delete(row, backend, caller.name, "deleted")

    def unschedule(self, session_id: int, caller: Principal) -> bool:
        """Stops the daily snapshots of one of the caller's sessions (anyone's, for TDs and
        admins); the snapshots taken stay. Returns whether it was scheduled.

        Raises:
            NotFound: no such session, or someone else's.
        """
        db = self.ctx.database.db
        session = session_store.get_session(db, session_id)
        if session is None or not may_touch_desktop(caller, session):
            raise NotFound(
                f"No session {session_id} of yours: GET /api/v1/sessions lists your sessions."
            )
        with self.ctx.database.transaction() as tx:
            removed = store.remove_schedule(tx, session_id)
            if removed:
                desktop_audit.append(
                    tx, at=self.ctx.now(), actor=caller.name, action="snapshot.unscheduled",
                    user_name=session["user_name"], session_id=session_id,
                    detail="no more daily snapshots; those taken stay",
                )  # fmt: skip
        return removed

    def scheduled(self, caller: Principal) -> tuple[int, ...]:
        """The ids of the running sessions snapshotted every day that ``caller`` may touch (their
        own; anyone's, for TDs and admins), in order."""
        rows = store.scheduled_sessions(self.ctx.database.db)
        return tuple(row["id"] for row in rows if may_touch_desktop(caller, row))

    # --- what the sessions service calls ------------------------------------------------------

    def take(
        self, session_id: int, *, kind: BackupKind, description: str, scheduled: bool, actor: str
    ) -> Snapshot:
        """A snapshot of a session's boot volume, for the session service (at its end).

        Raises:
            NotFound: no such session. DesktopsOff, NoRunningDesktop. DesktopRefused,
            CloudError.
        """
        session = session_store.get_session(self.ctx.database.db, session_id)
        if session is None:
            raise NotFound(f"No session {session_id}: GET /api/v1/sessions lists them.")
        return self._take(session, kind, description, scheduled, actor, self.ctx.now())

    def refresh(self, snapshot_id: int) -> Snapshot:
        """The snapshot, its state first asked of the cloud while it is being made (a cloud
        that cannot be reached leaves it ``creating``, to be asked again).

        Raises:
            NotFound: no such snapshot.
        """
        row = store.get_snapshot(self.ctx.database.db, snapshot_id)
        if row is None:
            raise NotFound(f"No snapshot {snapshot_id}: GET /api/v1/snapshots lists them.")
        return _snapshot(self._current(row))

    def restore_source(self, snapshot_id: int, user_name: str) -> str:
        """The backup a new session of ``user_name`` boots from: one of that person's own
        snapshots, available.

        Raises:
            NotFound: no such snapshot, or someone else's.
            SnapshotUnavailable: it is not ``available`` (being made, failed, archived, deleted).
        """
        row = store.get_snapshot(self.ctx.database.db, snapshot_id)
        if row is None or row["user_name"] != user_name:
            raise NotFound(
                f"No snapshot {snapshot_id} of {user_name}'s: GET /api/v1/snapshots lists them."
            )
        row = self._current(row)
        if row["state"] != "available":
            raise SnapshotUnavailable(
                f"Snapshot {snapshot_id} is {row['state']}: a desktop starts only from an "
                "available snapshot; choose another, or wait until this one is available."
            )
        return str(row["backup_id"])

    # --- the scheduled pass -------------------------------------------------------------------

    def recover_archives(self) -> int:
        """At the daemon's start: snapshots left ``archiving`` by a daemon that stopped mid-way
        go back to ``available`` while their backup exists (archive them again), else to
        ``failed`` (the copy may exist; the backup is gone). Returns how many it moved."""
        if self.backend is None:
            return 0
        moved = 0
        for row in store.in_state(self.ctx.database.db, "archiving"):
            try:
                backup = self.backend.backup_info(row["backup_id"])
            except Exception as exc:  # the cloud cannot say now: the next start asks again
                logger.warning("snapshot_id=%s: cannot ask the cloud: %s", row["id"], exc)
                continue
            state, detail = (
                ("available", "Archiving was cut short by a daemon stop: archive it again.")
                if backup is not None
                else ("failed", "Archiving was cut short by a daemon stop after its backup was "
                      "deleted: look for the copy in the archive.")
            )  # fmt: skip
            with self.ctx.database.transaction() as db:
                if store.move(db, row["id"], ("archiving",), state, detail=detail):
                    _record(db, row, "snapshot.failed", DAEMON, self.ctx.now(), detail)
                    moved += 1
        return moved

    def run_schedules(self, now: float | None = None) -> int:
        """Takes the day's snapshot of each scheduled session whose desktop runs (once its
        profile's ``snapshots.time`` has passed), then deletes what retention no longer keeps
        of its scheduled snapshots (those taken by hand are never deleted here). A session
        that fails is logged and the others go on. Runs on the scheduler's thread.

        Returns:
            How many snapshots were taken.
        """
        if self.backend is None:
            return 0
        now = self.ctx.now() if now is None else now
        taken = 0
        for session in store.scheduled_sessions(self.ctx.database.db):
            profile = self.ctx.settings.desktop_profile(session["profile"])
            if profile is None:
                logger.warning(
                    "session_id=%s: its desktop profile %r is no longer configured: no "
                    "scheduled snapshot", session["id"], session["profile"],
                )  # fmt: skip
                continue
            rule = profile.snapshots
            since = (
                session["last_at"] if session["last_at"] is not None else session["scheduled_at"]
            )
            try:
                if snapshot_days.due(now, rule.time, since):
                    kind = self._scheduled_kind(session["id"], now, rule.full_day)
                    day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
                    self._take(session, kind, f"Daily snapshot of {day}", True, DAEMON, now)
                    taken += 1
                self._retain(session["id"], rule.keep_daily, rule.keep_weekly, now)
            except CloudburstError as exc:  # one session's trouble must not stop the others'
                logger.warning("session_id=%s: scheduled snapshot failed: %s", session["id"], exc)
            except Exception:
                logger.exception("session_id=%s: scheduled snapshot failed", session["id"])
        return taken

    def _scheduled_kind(self, session_id: int, now: float, full_day: str) -> BackupKind:
        refs = _refs(store.held_scheduled(self.ctx.database.db, session_id))
        kind = policy.next_kind(refs, now, WEEKDAYS.index(full_day), UTC)
        return BackupKind(kind.value)

    def _retain(self, session_id: int, keep_daily: int, keep_weekly: int, now: float) -> None:
        """Deletes the session's scheduled snapshots retention no longer keeps (those still
        being made are left to a later pass)."""
        rows = store.held_scheduled(self.ctx.database.db, session_id)
        keep = policy.to_keep(_refs(rows), keep_daily, keep_weekly, UTC)
        backend = self._backend()
        for row in rows:
            if str(row["id"]) not in keep and row["state"] == "available":
                self._delete(row, backend, DAEMON, "deleted by retention", now)

    # --- the steps ----------------------------------------------------------------------------

    def _take(
        self,
        session: dict[str, Any],
        kind: BackupKind,
        description: str,
        scheduled: bool,
        actor: str,
        now: float,
        schedule: bool = False,
    ) -> Snapshot:
        backend = self._backend()
        session_id = session["id"]
        instance_id = session["instance_id"]
        desktop = None
        if session["state"] in RUNNING_SESSION_STATES and instance_id is not None:
            desktop = backend.desktop(instance_id)
        # Checked again at the cloud: the instance must be this session's (by its tag).
        if desktop is None or desktop.session_id != session_id:
            raise NoRunningDesktop(
                f"Session {session_id} has no desktop running ({session['state']}): a snapshot "
                "is taken of a running desktop; start a session and snapshot it once it is ready."
            )
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
        name = f"{self.ctx.settings.cloud.farm}-desktop-{session_id}-{kind.value}-{stamp}"
        try:
            backup = backend.backup(instance_id, kind, name)
        except Exception as exc:
            self._audit_refusal(session, actor, f"the cloud refused it: {exc}")
            raise
        try:
            with self.ctx.database.transaction() as db:
                snapshot_id = store.insert_snapshot(db, _fields(
                    session, backup, kind, description, scheduled, actor, now
                ))  # fmt: skip
                if schedule:
                    store.add_schedule(db, session_id, now, actor)
                desktop_audit.append(
                    db, at=now, actor=actor,
                    action="snapshot.scheduled" if scheduled else "snapshot.create",
                    user_name=session["user_name"], session_id=session_id,
                    snapshot_id=snapshot_id,
                    detail=f"{kind.value} backup {backup.id}"
                    + (", and every day from now on" if schedule else ""),
                )  # fmt: skip
                row = store.get_snapshot(db, snapshot_id)
        except Exception:
            backend.delete_backup(backup.id)  # not recorded: leave no backup nobody knows of
            raise
        assert row is not None
        logger.info("session_id=%s snapshot_id=%s: %s snapshot %s by %s", session_id,
                    snapshot_id, kind.value, backup.id, actor)  # fmt: skip
        return _snapshot(row)

    def _current(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row, asked of the cloud first while its backup is being made (desktops on)."""
        if row["state"] == "creating" and self.backend is not None:
            return self._refreshed(row, self.backend)
        return row

    def _refreshed(self, row: dict[str, Any], backend: DesktopBackend) -> dict[str, Any]:
        """The row after asking the cloud how its ``creating`` backup is."""
        try:
            info = backend.backup_info(row["backup_id"])
        except Exception as exc:
            logger.warning("snapshot_id=%s: cannot ask the cloud yet: %s", row["id"], exc)
            return row
        state = "failed" if info is None else _STATES[info.state]
        if state == "creating":
            return row
        now = self.ctx.now()
        detail = "" if state == "available" else "The cloud lost or could not make its backup."
        size = row["size_gb"] if info is None or info.size_gb is None else info.size_gb
        with self.ctx.database.transaction() as db:
            moved = store.move(db, row["id"], ("creating",), state, size_gb=size, detail=detail)
            if moved and state == "failed":
                _record(db, row, "snapshot.failed", DAEMON, now, detail)
            found = store.get_snapshot(db, row["id"])
        assert found is not None
        return found

    def _delete(
        self,
        row: dict[str, Any],
        backend: DesktopBackend,
        actor: str,
        detail: str,
        now: float | None = None,
    ) -> Snapshot:
        snapshot_id = row["id"]
        if row["state"] == "deleted":
            return _snapshot(row)
        at = self.ctx.now() if now is None else now
        with self.ctx.database.transaction() as db:  # claimed first: an archive cannot start
            if not store.move(db, snapshot_id, ("available", "failed"), "deleted", deleted_at=at):
                raise _not_now(store.get_snapshot(db, snapshot_id) or row)
        try:
            backend.delete_backup(row["backup_id"])
        except Exception:  # the backup is still there: the snapshot is as it was
            with self.ctx.database.transaction() as db:
                store.move(db, snapshot_id, ("deleted",), row["state"], deleted_at=None)
            raise
        with self.ctx.database.transaction() as db:
            _record(db, row, "snapshot.delete", actor, at, f"{detail}: {row['backup_id']}")
            found = store.get_snapshot(db, snapshot_id)
        assert found is not None
        logger.info("snapshot_id=%s %s by %s", snapshot_id, detail, actor)
        return _snapshot(found)

    def _archive(self, row: dict[str, Any], backend: DesktopBackend, actor: str) -> Snapshot:
        snapshot_id = row["id"]
        if row["state"] == "archived":
            return _snapshot(row)
        with self.ctx.database.transaction() as db:
            if not store.move(db, snapshot_id, ("available",), "archiving"):
                raise _not_now(store.get_snapshot(db, snapshot_id) or row)
        uri: str | None = None
        try:
            uri = backend.archive_backup(row["backup_id"])
            backend.delete_backup(row["backup_id"])
        except Exception as exc:
            # Back to available: the backup is still there (and, if copied, where it went).
            why = "archiving" if uri is None else f"deleting its backup (archived to {uri})"
            failure = f"{why} failed: {exc}"[:500]
            with self.ctx.database.transaction() as db:
                store.move(db, snapshot_id, ("archiving",), "available", archive_uri=uri,
                           detail=failure)  # fmt: skip
                _record(db, row, "snapshot.failed", actor, self.ctx.now(), failure)
            raise
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            store.move(db, snapshot_id, ("archiving",), "archived", archive_uri=uri,
                       deleted_at=now, detail=f"Archived to {uri}.")  # fmt: skip
            archived = f"backup {row['backup_id']} archived to {uri} and deleted"
            _record(db, row, "snapshot.archive", actor, now, archived)
            found = store.get_snapshot(db, snapshot_id)
        assert found is not None
        logger.info("snapshot_id=%s archived to %s by %s", snapshot_id, uri, actor)
        return _snapshot(found)

    def _audit_refusal(self, session: dict[str, Any], actor: str, detail: str) -> None:
        """A snapshot the cloud would not start: only the audit log keeps it."""
        with self.ctx.database.transaction() as db:
            desktop_audit.append(
                db, at=self.ctx.now(), actor=actor, action="snapshot.failed",
                user_name=session["user_name"], session_id=session["id"], detail=detail[:500],
            )  # fmt: skip

    def _mine(self, snapshot_id: int, caller: Principal) -> dict[str, Any]:
        row = store.get_snapshot(self.ctx.database.db, snapshot_id)
        # Someone else's snapshot is "not found": its id tells nothing of it.
        if row is None or not may_touch_desktop(caller, row):
            raise NotFound(f"No snapshot {snapshot_id} of yours: GET /api/v1/snapshots lists them.")
        return row

    def _backend(self) -> DesktopBackend:
        if self.backend is None:
            raise DesktopsOff(
                "Desktops are off: set [sessions] backend (or [cloud] backend) and configure "
                "[[desktops]] profiles to take, archive or delete snapshots."
            )
        return self.backend


def _record(
    db: sqlite_utils.Database, row: dict[str, Any], action: str, actor: str, at: float,
    detail: str,
) -> None:  # fmt: skip
    """Appends the audit record of ``action`` on the snapshot ``row``."""
    desktop_audit.append(
        db, at=at, actor=actor, action=action, user_name=row["user_name"],
        session_id=row["session_id"], snapshot_id=row["id"], detail=detail,
    )  # fmt: skip


def _not_now(row: dict[str, Any]) -> SnapshotUnavailable:
    state = row["state"]
    where = f" at {row['archive_uri']}" if state == "archived" else ""
    return SnapshotUnavailable(
        f"Snapshot {row['id']} is {state}{where}: only an available snapshot is archived, and "
        "an available or failed one deleted; GET /api/v1/snapshots/"
        f"{row['id']} says when it changes."
    )


def _refs(rows: list[dict[str, Any]]) -> list[policy.BackupRef]:
    """The policy's view of snapshots. A boot volume backup restores on its own (the cloud
    keeps the blocks an incremental shares with older backups), so none has a base."""
    return [
        policy.BackupRef(str(row["id"]), PolicyKind(row["kind"]), None, row["created_at"])
        for row in rows
    ]


def _fields(
    session: dict[str, Any],
    backup: VolumeBackup,
    kind: BackupKind,
    description: str,
    scheduled: bool,
    actor: str,
    now: float,
) -> dict[str, Any]:
    return {
        "session_id": session["id"], "instance_id": session["instance_id"],
        "user_id": session["user_id"], "user_name": session["user_name"],
        "project": session["project"], "profile": session["profile"],
        "description": description, "kind": kind.value, "scheduled": int(scheduled),
        "state": _STATES[backup.state], "backup_id": backup.id, "size_gb": backup.size_gb,
        "detail": "", "created_at": now, "created_by": actor,
    }  # fmt: skip


def _snapshot(row: dict[str, Any]) -> Snapshot:
    return Snapshot.model_validate({
        "id": row["id"], "session_id": row["session_id"], "instance_id": row["instance_id"],
        "user": row["user_name"], "project": row["project"], "profile": row["profile"],
        "description": row["description"], "kind": row["kind"],
        "scheduled": bool(row["scheduled"]), "state": row["state"], "size_gb": row["size_gb"],
        "created_at": to_datetime(row["created_at"]), "backup_id": row["backup_id"],
        "archive_uri": row["archive_uri"], "detail": row["detail"],
    }, strict=False)  # fmt: skip
