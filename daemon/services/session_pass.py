"""The sessions pass: what time and the cloud do to live desktop sessions.

Every ``[sessions] interval_s`` (and once at the daemon's start) each live session gets the one
step ``daemon.scheduling.desktop_sessions.next_step`` decides: a warning before its end, the
end at its duration or after its idle timeout (the desktop is told; its instance terminated
after ``end_grace_s`` and the end snapshot), ``failed`` for a desktop that never reported or
went silent (terminated) or whose instance vanished. Silence is counted from the daemon's
start at the earliest: a desktop cannot report to a daemon that is down. Instances tagged
ours that no live session holds are terminated. An ended or failed session's cost (per second
from its launch, at least a minute, at its profile's price) is booked in the transaction that
ends it.

Runs on APScheduler's thread (and the launch workers, for ``fail``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC
from typing import Any, Protocol

from common.desktop_settings import DesktopProfile
from common.errors import NotFound
from common.models import ENDABLE_SESSION_STATES, LIVE_SESSION_STATES, Snapshot
from daemon.backends.desktops import BackupKind, Desktop, DesktopBackend, DesktopState
from daemon.context import Context
from daemon.scheduling import desktop_sessions as policy
from daemon.scheduling.desktop_sessions import SessionFacts, Step
from daemon.scheduling.time_words import clock, duration
from daemon.storage import desktop_audit
from daemon.storage import desktop_sessions as store

logger = logging.getLogger(__name__)

#: Connection tokens are forgotten this long after they expire.
TOKEN_KEEP_S = 86400.0


def live_cost(row: dict[str, Any], now: float) -> float:
    """What a session has cost so far (nothing before its instance was launched)."""
    if row["instance_id"] is None:
        return 0.0
    return policy.session_cost(row["price_per_hour"], row["created_at"], now)


class SnapshotTaker(Protocol):
    """What sessions need of the snapshots service (``daemon.services.snapshots``)."""

    def take(
        self, session_id: int, *, kind: BackupKind, description: str, scheduled: bool, actor: str
    ) -> Snapshot:
        """Starts a backup of the session's boot volume (audited); returns the snapshot."""
        ...

    def refresh(self, snapshot_id: int) -> Snapshot:
        """The snapshot with its state read again from the backend."""
        ...

    def restore_source(self, snapshot_id: int, user_name: str) -> str:
        """The backup id a session of ``user_name`` may start from (404 unless theirs, 409
        unless available)."""
        ...


class SessionPass:
    """Moves live sessions on with time and with what the cloud says."""

    def __init__(
        self, context: Context, backend: DesktopBackend | None, snapshots: SnapshotTaker
    ) -> None:
        self.ctx = context
        self.backend = backend
        self.snapshots = snapshots
        self.listening_since = context.now()
        """Built at the daemon's start: desktops silent only while it was down are not
        failed before they could report again."""

    def facts(self, row: dict[str, Any], profile: DesktopProfile | None) -> SessionFacts:
        settings = self.ctx.settings.sessions
        return SessionFacts(
            state=row["state"], created_at=row["created_at"], ends_at=row["ends_at"],
            idle_timeout_s=policy.idle_timeout_s(profile, settings) if profile
            else settings.idle_timeout_s,
            warned_at=row["warned_at"], end_requested_at=row["end_requested_at"],
            last_report_at=row["last_report_at"], connected=bool(row["connected"]),
            idle_s=row["idle_s"],
            user_active=bool(row.get("user_active", 1)), listening_since=self.listening_since,
        )  # fmt: skip

    def run(self, now: float | None = None) -> int:
        """One pass; returns how many sessions it moved (orphans terminated included)."""
        if self.backend is None:
            return 0
        now = self.ctx.now() if now is None else now
        listed = self._desktops()
        moved = 0
        live = store.live_sessions(self.ctx.database.db)
        for row in live:
            facts = self.facts(row, self.ctx.settings.desktop_profile(row["profile"]))
            gone = (
                listed is not None
                and row["instance_id"] is not None
                and (row["instance_id"] not in listed)
            )
            pending = row["state"] == "ending" and self._snapshot_pending(row)
            facts = replace(facts, instance_gone=gone, end_snapshot_pending=pending)
            step = policy.next_step(facts, self.ctx.settings.sessions, now)
            if step is not Step.NOTHING and self._apply(step, row, now):
                moved += 1
        if listed is not None:  # the live sessions' instances were judged above
            held = {row["instance_id"] for row in live}
            moved += self._terminate_orphans(
                {i: d for i, d in listed.items() if i not in held}, now
            )
        with self.ctx.database.transaction() as db:
            store.purge_tokens(db, now - TOKEN_KEEP_S)
        return moved

    def fail(self, session_id: int, reason: str, now: float | None = None) -> bool:
        """Marks a live session ``failed`` (booked, audited); False when it was not live."""
        now = self.ctx.now() if now is None else now
        with self.ctx.database.transaction() as db:
            row = store.get_session(db, session_id)
            if row is None or not store.move(
                db, session_id, LIVE_SESSION_STATES, state="failed", detail=reason, ended_at=now,
                end_reason=reason,
            ):  # fmt: skip
                return False
            self._book(db, row, now)
            desktop_audit.append(
                db, at=now, actor="daemon", action="session.failed",
                user_name=row["user_name"], session_id=session_id, detail=reason,
            )  # fmt: skip
        logger.warning("session %d failed: %s", session_id, reason)
        return True

    # --- the steps ------------------------------------------------------------------------

    def _apply(self, step: Step, row: dict[str, Any], now: float) -> bool:
        settings = self.ctx.settings.sessions
        if step is Step.WARN:
            return self._note(row, now, "session.warn", ENDABLE_SESSION_STATES,
                              warned_at=now,
                              detail=f"ends at {clock(row['ends_at'], now, UTC)} UTC")  # fmt: skip
        if step in (Step.END_AT_DURATION, Step.END_IDLE, Step.END_USER_GONE):
            why, reason = {
                Step.END_AT_DURATION: ("duration", "its time is up"),
                Step.END_IDLE: (
                    "idle",
                    f"idle for {duration(policy.idle_now(self._plain(row), now))}",
                ),
                Step.END_USER_GONE: ("user", f"{row['user_name']} was deactivated or deleted"),
            }[step]
            return self._note(row, now, "session.end_requested", ENDABLE_SESSION_STATES,
                              state="ending", end_requested_at=now,
                              end_reason=why, detail=reason)  # fmt: skip
        if step is Step.LOST:
            return self.fail(row["id"], "its desktop instance is gone", now)
        if step in (Step.FAIL_BOOT, Step.FAIL_SILENT):
            booting = step is Step.FAIL_BOOT
            seconds = settings.boot_timeout_s if booting else settings.report_timeout_s
            what = "never reported" if booting else "stopped reporting"
            if not self._terminate(row):
                return False
            return self.fail(row["id"], f"its desktop {what} (for {duration(seconds)})", now)
        if step is Step.TERMINATE:
            return self._end(row, now)
        return False

    def _end(self, read: dict[str, Any], now: float) -> bool:
        """Terminates an ``ending`` session's instance, then marks it ``ended`` and books it.

        The row is read again first: a launch that recorded its instance after the pass read
        the session has its instance terminated and its cost booked too."""
        row = store.get_session(self.ctx.database.db, read["id"])
        if row is None or row["state"] != "ending":
            return False  # moved meanwhile (the user's end is idempotent; nothing else ends it)
        if not self._terminate(row):
            return False  # the cloud failed: the next pass tries again
        with self.ctx.database.transaction() as db:
            if not store.move(db, row["id"], ["ending"], state="ended", ended_at=now):
                return False
            self._book(db, row, now)
            desktop_audit.append(
                db, at=now, actor="daemon", action="session.ended", user_name=row["user_name"],
                session_id=row["id"], detail=row["end_reason"] or "",
            )  # fmt: skip
        logger.info("session %d ended (%s)", row["id"], row["end_reason"])
        return True

    def _note(
        self, row: dict[str, Any], now: float, action: str, states: Sequence[str], **fields: Any
    ) -> bool:
        with self.ctx.database.transaction() as db:
            if not store.move(db, row["id"], states, **fields):
                return False
            desktop_audit.append(
                db, at=now, actor="daemon", action=action, user_name=row["user_name"],
                session_id=row["id"], detail=str(fields.get("detail", "")),
            )  # fmt: skip
        return True

    def _terminate_orphans(self, listed: dict[str, Desktop], now: float) -> int:
        """Terminates our instances that no live session holds."""
        assert self.backend is not None
        sessions = store.sessions_of_instances(self.ctx.database.db, listed)
        count = 0
        for desktop_id, desktop in listed.items():
            row = sessions.get(desktop_id)
            if desktop.state is DesktopState.TERMINATING or (
                row is not None and row["state"] in LIVE_SESSION_STATES
            ):
                continue  # going already, or held
            if row is None and desktop.session_id is not None:
                owner = store.get_session(self.ctx.database.db, desktop.session_id)
                if (
                    owner is not None
                    and owner["state"] in LIVE_SESSION_STATES
                    and owner["instance_id"] is None
                ):
                    continue  # its launch is being recorded right now
            try:
                self.backend.terminate(desktop_id)
            except Exception:  # the cloud failed: the next pass tries again
                logger.exception("could not terminate orphaned desktop %s", desktop_id)
                continue
            with self.ctx.database.transaction() as db:
                desktop_audit.append(
                    db, at=now, actor="daemon", action="session.terminate_orphan",
                    user_name=row["user_name"] if row else "",
                    session_id=row["id"] if row else desktop.session_id, detail=desktop_id,
                )  # fmt: skip
            logger.warning("terminated orphaned desktop %s", desktop_id)
            count += 1
        return count

    # --- inside ---------------------------------------------------------------------------

    def _desktops(self) -> dict[str, Desktop] | None:
        """Our instances by id; None when the cloud could not say (nothing is judged lost)."""
        assert self.backend is not None
        try:
            return {d.id: d for d in self.backend.desktops()}
        except Exception:
            logger.exception("could not list the desktops: lost ones are judged next pass")
            return None

    def _terminate(self, row: dict[str, Any]) -> bool:
        assert self.backend is not None
        if row["instance_id"] is None:
            return True
        try:
            self.backend.terminate(row["instance_id"])
        except Exception:
            logger.exception("session %d: could not terminate %s", row["id"], row["instance_id"])
            return False
        return True

    def _snapshot_pending(self, row: dict[str, Any]) -> bool:
        if row["end_snapshot_id"] is None:
            return False
        try:
            state = self.snapshots.refresh(row["end_snapshot_id"]).state
        except NotFound:
            return False  # deleted meanwhile: nothing to wait for
        except Exception:  # the cloud failed: wait for the next pass
            logger.exception("session %d: could not read its end snapshot", row["id"])
            return True
        return state not in ("available", "failed", "deleted", "archived")

    def _book(self, db: Any, row: dict[str, Any], now: float) -> None:
        if row["instance_id"] is None:
            return
        seconds = policy.billed_seconds(row["created_at"], now)
        cost = live_cost(row, now)
        store.book_usage(db, row["id"], row["user_name"], row["project"], seconds, cost, now)

    def _plain(self, row: dict[str, Any]) -> SessionFacts:
        return self.facts(row, self.ctx.settings.desktop_profile(row["profile"]))
