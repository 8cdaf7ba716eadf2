"""Artists' desktop sessions: start one from a profile, list and read them, end them.

A session is stored ``provisioning`` at once and its desktop launched on the service's own
worker threads (``desktop-launch``), so a slow cloud never holds a request: a refusal marks the
session ``failed`` with the cloud's sentence. Each action is audited in its own transaction
(``daemon.storage.desktop_audit``). An artist sees only their own sessions: another's answers
404 as an unknown one does, so ids tell nothing. The sessions pass (ends, warnings, lost
desktops, orphans) is ``daemon.services.session_pass``; the desktops' own calls and the
one-time connection tokens are ``daemon.services.connection_broker``.

Threads: requests call every method but ``run_pass`` (APScheduler's thread) and ``_launch``
(the launch workers).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from common.desktop_settings import DesktopProfile
from common.errors import (
    DesktopsOff,
    Forbidden,
    IllegalStateChange,
    InvalidInput,
    NoRunningDesktop,
    NotFound,
    TooManySessions,
)
from common.models import (
    ENDABLE_SESSION_STATES,
    ENDED_SESSION_STATES,
    READY_SESSION_STATES,
    DesktopAuditQuery,
    DesktopAuditRecord,
    DesktopProfileInfo,
    DesktopSession,
    Resource,
    SessionCreate,
    SessionQuery,
)
from daemon.auth import Permission, Principal
from daemon.auth.keys import DESKTOP_PREFIX, new_token, token_hash
from daemon.auth.rules import may_touch_desktop, owns_desktop
from daemon.backends.desktops import BackupKind, DesktopBackend, DesktopLaunch
from daemon.context import Context, to_datetime, to_optional_datetime
from daemon.scheduling import desktop_sessions as policy
from daemon.services.connection_broker import ConnectionBroker
from daemon.services.projects import ProjectService
from daemon.services.session_pass import SessionPass, SnapshotTaker, live_cost
from daemon.storage import desktop_audit
from daemon.storage import desktop_sessions as store
from daemon.storage import users as user_store

logger = logging.getLogger(__name__)

LAUNCH_WORKERS = 4
DESKTOPS_OFF = (
    'Desktops are off: set [sessions] backend (or [cloud] backend) to "oci" or "simcloud" and '
    "add a [[desktops]] profile to the daemon's configuration."
)


class SessionService:
    """Desktop sessions' use cases; ``backend`` None means desktops are off."""

    def __init__(
        self,
        context: Context,
        backend: DesktopBackend | None,
        snapshots: SnapshotTaker,
        projects: ProjectService,
    ) -> None:
        self.ctx = context
        self.backend = backend
        self.snapshots = snapshots
        self.projects = projects
        self.broker = ConnectionBroker(context)
        self.passes = SessionPass(context, backend, snapshots)
        self._launcher = ThreadPoolExecutor(LAUNCH_WORKERS, thread_name_prefix="desktop-launch")
        self._launches: set[Future[None]] = set()

    # --- profiles -------------------------------------------------------------------------

    def desktops_off(self) -> str | None:
        """The sentence every start meets while desktops are off; None while they are on."""
        return DESKTOPS_OFF if self.backend is None else None

    def profiles(self, principal: Principal) -> list[DesktopProfileInfo]:
        """The profiles offered to the caller (none while desktops are off)."""
        settings = self.ctx.settings
        if self.backend is None:
            return []
        confidential, mine = self._access(principal.name)
        return [
            DesktopProfileInfo(
                name=p.name,
                description=p.description,
                shape=p.shape,
                ocpus=p.ocpus,
                memory_gb=p.memory_gb,
                gpus=p.gpus,
                boot_volume_gb=p.boot_volume_gb,
                protocol=p.protocol,
                projects=list(p.projects),
                price_per_hour=p.price_per_hour,
                max_duration_h=policy.max_duration_h(p, settings.sessions),
                idle_timeout_s=policy.idle_timeout_s(p, settings.sessions),
            )
            for p in settings.desktops
            if policy.offered(p, confidential, mine)
        ]

    # --- start ----------------------------------------------------------------------------

    def create(self, request: SessionCreate, principal: Principal) -> DesktopSession:
        """Stores the session ``provisioning`` and launches its desktop in the background.

        Raises:
            DesktopsOff, TooManySessions: 409.
            SnapshotUnavailable: the snapshot to start from is not available (409).
            NotFound: no such profile, or no such snapshot of the user's (404).
            Forbidden: the profile is not offered to the user, or the caller names another
                person without ``sessions.manage`` (403).
            InvalidInput: an unknown user, a project or duration the profile does not allow.
        """
        settings = self.ctx.settings
        if self.backend is None:
            raise DesktopsOff(DESKTOPS_OFF)
        user = request.user or principal.name
        if user != principal.name and not principal.may(Permission.SESSIONS_MANAGE):
            raise Forbidden(
                "Only TDs and admins start sessions for other people: leave out 'user' to "
                "start your own."
            )
        profile = settings.desktop_profile(request.profile)
        if profile is None:
            raise NotFound(
                f"No desktop profile named {request.profile!r}: GET /api/v1/sessions/profiles "
                "lists the profiles offered to you."
            )
        project = self._project(profile, request.project, user)
        limit_h = policy.max_duration_h(profile, settings.sessions)
        hours = request.duration_h or min(settings.sessions.default_duration_h, limit_h)
        if hours > limit_h:
            raise InvalidInput(
                f"A session of {profile.name} lasts at most {limit_h:g} h: ask for that or less."
            )
        backup_id = None
        if request.snapshot_id is not None:
            backup_id = self.snapshots.restore_source(request.snapshot_id, user)
        secret = new_token(DESKTOP_PREFIX)  # handed to its desktop only
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            owner = user_store.user_by_name(db, user)
            if owner is None or owner["deleted_at"] is not None or not owner["active"]:
                raise InvalidInput(f"No active user named {user!r}: name an existing person.")
            live = store.count_live(db, user)
            most = settings.sessions.max_sessions_per_user
            if live >= most:
                raise TooManySessions(
                    f"{user} has {live} session(s) that have not ended (the most is {most}): "
                    "end one first with DELETE /api/v1/sessions/<id>."
                )
            session_id = store.insert_session(
                db,
                {
                    "user_id": owner["id"], "user_name": user, "project": project,
                    "profile": profile.name, "backend": self.backend.name,
                    "state": "provisioning", "detail": "launching its desktop",
                    "secret_hash": token_hash(secret), "price_per_hour": profile.price_per_hour,
                    "created_at": now, "created_by": principal.name,
                    "ends_at": now + hours * 3600.0, "snapshot_id": request.snapshot_id,
                },
            )  # fmt: skip
            desktop_audit.append(
                db, at=now, actor=principal.name, action="session.start", user_name=user,
                session_id=session_id,
                detail=f"profile {profile.name}, project {project}, {hours:g} h",
            )  # fmt: skip
            if request.snapshot_id is not None:
                desktop_audit.append(
                    db, at=now, actor=principal.name, action="snapshot.restore", user_name=user,
                    session_id=session_id, snapshot_id=request.snapshot_id,
                    detail=f"session {session_id} starts from it ({backup_id})",
                )  # fmt: skip
        logger.info("session %d: %s starts %s for %s", session_id, principal.name, profile.name,
                    user)  # fmt: skip
        launch = DesktopLaunch(
            session_id=session_id, name=f"{settings.cloud.farm}-desktop-{session_id}",
            profile=profile, user=user, project=project, daemon_url=self._daemon_url(),
            secret=secret, restore_backup_id=backup_id,
            report_interval_s=settings.sessions.report_interval_s,
        )  # fmt: skip
        answer = self.get(session_id, principal)  # as stored: the launch may end before
        future = self._launcher.submit(self._launch, launch)
        self._launches.add(future)
        future.add_done_callback(self._launches.discard)
        return answer

    def settle(self, timeout: float | None = None) -> None:
        """Waits for the launches under way (tests; the daemon's stop)."""
        wait(list(self._launches), timeout=timeout)

    def close(self) -> None:
        """Waits for the launches under way and stops the launch workers; launches not begun
        are dropped (their sessions fail at the boot timeout)."""
        self._launcher.shutdown(wait=True, cancel_futures=True)

    # --- read -----------------------------------------------------------------------------

    def get(self, session_id: int, principal: Principal) -> DesktopSession:
        """One session; its own user gets a fresh one-time connection token once it is ready.

        Raises:
            NotFound: no such session, or another person's for an artist.
        """
        row = self._visible(session_id, principal)
        return self._model(row, mint=owns_desktop(principal, row))

    def list_sessions(self, query: SessionQuery, principal: Principal) -> list[DesktopSession]:
        """The caller's sessions (managers: anyone's, or ``query.user``'s), newest first."""
        manager = principal.may(Permission.SESSIONS_MANAGE)
        if query.user is not None and query.user != principal.name and not manager:
            raise Forbidden("Only TDs and admins list other people's sessions.")
        user = query.user if manager else principal.name
        rows = store.list_sessions(
            self.ctx.database.db, user_name=user, state=query.state, limit=query.limit
        )
        return [self._model(row) for row in rows]

    def history(self, user_id: int, principal: Principal) -> list[DesktopSession]:
        """A user's sessions, newest first: for the user themself, TDs and admins.

        Raises:
            Forbidden: another person's history without ``users.manage``/``sessions.manage``.
            NotFound: no such user.
        """
        manager = principal.may(Permission.USERS_MANAGE) or principal.may(
            Permission.SESSIONS_MANAGE
        )
        if principal.user_id != user_id and not manager:
            raise Forbidden("You may read only your own session history.")
        db = self.ctx.database.db
        if user_store.get_user(db, user_id) is None:
            raise NotFound(f"No user {user_id}: GET /api/v1/users lists them.")
        return [self._model(row) for row in store.list_sessions(db, user_id=user_id, limit=500)]

    def audit(self, query: DesktopAuditQuery) -> list[DesktopAuditRecord]:
        """The desktop audit log, newest first."""
        rows = desktop_audit.records(
            self.ctx.database.db, session_id=query.session_id, snapshot_id=query.snapshot_id,
            user_name=query.user, limit=query.limit, before_id=query.before_id,
        )  # fmt: skip
        return [
            DesktopAuditRecord(
                id=r["id"],
                at=to_datetime(r["at"]),
                actor=r["actor"],
                action=r["action"],
                session_id=r["session_id"],
                snapshot_id=r["snapshot_id"],
                user=r["user_name"],
                detail=r["detail"],
            )
            for r in rows
        ]

    def resources(self) -> list[Resource]:
        """Live desktops as resources: ``active`` with a client connected, else ``idle`` (or
        still ``provisioning``, or ``ending``), with their user, profile, price and cost."""
        now = self.ctx.now()
        listed = []
        for row in store.launched_live_sessions(self.ctx.database.db):
            profile = self.ctx.settings.desktop_profile(row["profile"])
            state = row["state"]
            if state in READY_SESSION_STATES:
                state = "active" if row["connected"] else "idle"
            listed.append(
                Resource(
                    id=row["instance_id"],
                    kind="desktop",
                    name=f"desktop-{row['id']}",
                    state=state,
                    pool="desktops",
                    cpus=(profile.ocpus or 0) if profile else 0,
                    gpus=profile.gpus if profile else 0,
                    memory_gb=(profile.memory_gb or 0) if profile else 0,
                    shape=profile.shape if profile else "",
                    price_per_hour=row["price_per_hour"],
                    cost=round(live_cost(row, now), 4),
                    launched_at=to_datetime(row["created_at"]),
                    detail=row["detail"],
                    user=row["user_name"],
                    profile=row["profile"],
                    session_id=row["id"],
                )
            )
        return listed

    # --- end ------------------------------------------------------------------------------

    def end(self, session_id: int, principal: Principal, snapshot: bool) -> DesktopSession:
        """Tells the desktop to end: terminated after ``end_grace_s`` (and after the end
        snapshot, with ``snapshot``). Ending an ``ending`` session again changes nothing.

        Raises:
            NotFound: no such session (or another person's, for an artist).
            IllegalStateChange: it has ended already.
            NoRunningDesktop: a snapshot was asked where none can be taken.
        """
        row = self._visible(session_id, principal)
        if row["state"] == "ending":
            return self._model(row)
        if row["state"] in ENDED_SESSION_STATES:
            raise IllegalStateChange(f"Session {session_id} has {row['state']} already.")
        end_snapshot = None
        if snapshot:
            if row["instance_id"] is None:
                raise NoRunningDesktop(
                    f"Session {session_id} has no desktop yet, so nothing to snapshot: end it "
                    "without ?snapshot=true."
                )
            end_snapshot = self.snapshots.take(
                session_id, kind=BackupKind.FULL, description=f"At the end of session {session_id}",
                scheduled=False, actor=principal.name,
            ).id  # fmt: skip
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            moved = store.move(
                db, session_id, ENDABLE_SESSION_STATES, state="ending",
                end_requested_at=now, end_reason="asked", end_snapshot_id=end_snapshot,
                detail=f"ended by {principal.name}",
            )  # fmt: skip
            if not moved and end_snapshot is not None:
                # The pass began the end meanwhile (duration, idle): the snapshot taken is this
                # end's, and the instance waits for it.
                moved = store.move(db, session_id, ["ending"], end_snapshot_id=end_snapshot)
            if not moved:
                raise IllegalStateChange(
                    f"Session {session_id} changed meanwhile: read it again "
                    f"(GET /api/v1/sessions/{session_id})."
                )
            desktop_audit.append(
                db, at=now, actor=principal.name, action="session.end_requested",
                user_name=row["user_name"], session_id=session_id,
                detail="with a snapshot" if snapshot else "",
            )  # fmt: skip
        return self.get(session_id, principal)

    def run_pass(self, now: float | None = None) -> int:
        """The sessions pass (``daemon.services.session_pass``); returns the sessions moved."""
        return self.passes.run(now)

    # --- inside ---------------------------------------------------------------------------

    def _launch(self, launch: DesktopLaunch) -> None:
        """On a launch worker: asks the cloud; a refusal fails the session (audited)."""
        assert self.backend is not None
        try:
            desktop = self.backend.launch(launch)
        except Exception as exc:  # the cloud's refusal, or its failure: the session failed
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            logger.warning("session %d: the launch failed: %s", launch.session_id, message)
            self.passes.fail(launch.session_id, f"the cloud refused it: {message}")
            return
        with self.ctx.database.transaction() as db:
            store.set_instance(db, launch.session_id, desktop.id)
            row = store.get_session(db, launch.session_id)
        logger.info("session %d: launched %s", launch.session_id, desktop.id)
        if row is not None and row["state"] in ENDED_SESSION_STATES:
            self.backend.terminate(desktop.id)  # it ended while the cloud launched it

    def _visible(self, session_id: int, principal: Principal) -> dict[str, Any]:
        row = store.get_session(self.ctx.database.db, session_id)
        if row is None or not may_touch_desktop(principal, row):
            raise NotFound(f"No session {session_id} of yours: GET /api/v1/sessions lists them.")
        return row

    def _model(self, row: dict[str, Any], *, mint: bool = False) -> DesktopSession:
        now = self.ctx.now()
        profile = self.ctx.settings.desktop_profile(row["profile"])
        protocol = profile.protocol if profile else ""
        live = row["state"] not in ENDED_SESSION_STATES
        facts = self.passes.facts(row, profile)
        return DesktopSession(
            id=row["id"], user=row["user_name"], project=row["project"], profile=row["profile"],
            state=row["state"], detail=row["detail"], backend=row["backend"],
            instance_id=row["instance_id"], created_at=to_datetime(row["created_at"]),
            started_at=to_optional_datetime(row["started_at"]),
            ends_at=to_datetime(row["ends_at"]),
            time_left_s=max(0.0, row["ends_at"] - now) if live else 0.0,
            idle_s=policy.idle_now(facts, now) if row["idle_s"] is not None and live else None,
            connection=self.broker.connection(row, protocol, mint=mint),
            price_per_hour=row["price_per_hour"],
            cost=round(live_cost(row, now) if live else row["cost"], 4),
            snapshot_id=row["snapshot_id"], end_snapshot_id=row["end_snapshot_id"],
            ended_at=to_optional_datetime(row["ended_at"]),
        )  # fmt: skip

    def _project(self, profile: DesktopProfile, asked: str | None, user: str) -> str:
        """The project a session opens: the one asked, else the profile's only one."""
        if asked is None:
            if len(profile.projects) != 1:
                named = ", ".join(profile.projects) or "any project that is not confidential"
                raise InvalidInput(
                    f"Name the project the session opens ('project'): {profile.name} may open "
                    f"{named}."
                )
            asked = profile.projects[0]
        if profile.projects and asked not in profile.projects:
            raise InvalidInput(
                f"Desktop profile {profile.name} does not open project {asked!r}: choose one of "
                f"{', '.join(profile.projects)}."
            )
        confidential, mine = self._access(user)
        if not policy.offered(profile, confidential, mine) or not policy.may_open(
            asked, confidential, mine
        ):
            raise Forbidden(
                f"Project {asked!r} is confidential and {user} is not one of its members: ask "
                "its producer to add them (PUT /api/v1/projects/<project>/members)."
            )
        return asked

    def _access(self, user: str) -> tuple[set[str], set[str]]:
        """The confidential projects, and the projects ``user`` is a member of."""
        return self.projects.confidential_projects(), self.projects.projects_of(user)

    def _daemon_url(self) -> str:
        settings = self.ctx.settings
        return settings.cloud.node_daemon_url or settings.daemon_url
