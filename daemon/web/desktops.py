"""The desktops pages: one's desktop sessions in the cloud (start one, connect, end it) and the
snapshots of their boot volumes (take one, every day or not, delete or archive one, start a
session from one). TDs and admins see everyone's.

Each form checks the CSRF token, then the API guard with the declared sessions or snapshots
operation it stands for (``ACTIONS``), then calls the same service method as the JSON API; a
refusal is the page again with the service's sentence and status. A connection token is minted
only on the answer to the "Connect" form (the owner's ``GET /sessions/{id}``): never in a
listing nor in an address, and that answer is not kept by the browser (``no-store``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import redirect, render_template, request, url_for
from pydantic import ValidationError

from common.errors import CloudburstError, InvalidInput
from common.models import (
    MAX_SESSION_HOURS,
    READY_SESSION_STATES,
    DesktopSession,
    SessionCreate,
    SessionQuery,
    SnapshotCreate,
    SnapshotQuery,
)
from daemon.api import sessions as sessions_api
from daemon.api import snapshots as snapshots_api
from daemon.api.guard import authorize
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission, Principal
from daemon.container import services
from daemon.scheduling.time_words import duration
from daemon.web import session
from daemon.web.blueprint import bp, declared, page

logger = logging.getLogger(__name__)

#: The API operations behind the pages' forms: the same declarations the API guard checks.
ACTIONS: dict[str, tuple[ApiBlueprint, str, str]] = {
    "start": (sessions_api.bp, "POST", "/sessions"),
    "connect": (sessions_api.bp, "GET", "/sessions/<int:session_id>"),
    "end": (sessions_api.bp, "DELETE", "/sessions/<int:session_id>"),
    "take": (snapshots_api.bp, "POST", "/snapshots"),
    "delete": (snapshots_api.bp, "DELETE", "/snapshots/<int:snapshot_id>"),
    "unschedule": (snapshots_api.bp, "DELETE", "/snapshots/schedules/<int:session_id>"),
}


def _allowed(action: str, **params: Any) -> Principal:
    """The guard's check of the operation behind ``action`` (401/403 as the API's)."""
    op = declared(*ACTIONS[action])
    return authorize(op.method, op.path, op.permission, op.owner_may, params)


def time_left(seconds: float) -> str:
    """``2 h 5 min``, ``12 min``, ``—`` once less than a minute is left."""
    return "—" if seconds < 60 else duration(seconds, exact=True)


def _sessions_page(
    error: str = "", status: int = 200, opened: DesktopSession | None = None
) -> tuple[str, int]:
    who = session.principal()
    found = services()
    snapshots = found.snapshots.list(SnapshotQuery(user=who.name), who)
    chosen = request.args.get("snapshot", type=int) if request.method == "GET" else None
    profiles = found.sessions.profiles(who)
    return render_template(
        "sessions.html", error=error, opened=opened, off=found.sessions.desktops_off(),
        sessions=found.sessions.list_sessions(SessionQuery(), who), profiles=profiles,
        projects=sorted({p for profile in profiles for p in profile.projects}),
        ask_project=any(len(profile.projects) != 1 for profile in profiles),
        any_project=any(not profile.projects for profile in profiles),
        chosen=chosen, running=READY_SESSION_STATES, max_hours=MAX_SESSION_HOURS,
        snapshots=[s for s in snapshots if s.state == "available"], time_left=time_left,
        manager=who.may(Permission.SESSIONS_MANAGE),
    ), status  # fmt: skip


def _snapshots_page(error: str = "", status: int = 200) -> tuple[str, int]:
    who = session.principal()
    found = services()
    mine = found.sessions.list_sessions(SessionQuery(user=who.name), who)
    return render_template(
        "snapshots.html", error=error, off=found.sessions.desktops_off(),
        snapshots=found.snapshots.list(SnapshotQuery(), who),
        live=[s for s in mine if s.state in READY_SESSION_STATES and s.instance_id],
        daily=found.snapshots.scheduled(who),
        manager=who.may(Permission.SESSIONS_MANAGE),
    ), status  # fmt: skip


def _form(
    action: str, back: str, again: Callable[[str, int], Any], do: Callable[[Principal], object],
    **params: Any,
) -> Any:  # fmt: skip
    """Runs one form: the CSRF check, the guard of ``action``'s operation, then ``do`` (the
    service call); after success, back to the page (303). A refusal: to sign in again (401),
    else the page with the service's sentence and status."""
    session.check_csrf()
    try:
        who = _allowed(action, **params)
        do(who)
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for(back)), 303)
        return again(exc.message, exc.status)
    logger.info("%s: %s %s from the dashboard", who.name, action, params or "")
    return redirect(url_for(back), code=303)


@bp.get("/sessions")
@page(Permission.SESSIONS)
def sessions() -> Any:
    """The sessions page; ``?snapshot=ID`` picks that snapshot in the start form."""
    return _sessions_page()


def _start_form() -> SessionCreate:
    form = request.form
    try:
        return SessionCreate.model_validate(
            {
                "profile": form.get("profile", "").strip(),
                "project": form.get("project", "").strip() or None,
                "duration_h": form.get("duration_h", "").strip() or None,
                "snapshot_id": form.get("snapshot_id", "").strip() or None,
                "user": form.get("user", "").strip() or None,
            },
            strict=False,
        )
    except ValidationError as exc:
        raise InvalidInput(
            "Choose a desktop profile and give the duration in hours (more than 0, at most "
            f"{MAX_SESSION_HOURS}); leave the duration empty for the usual length."
        ) from exc


@bp.post("/sessions")
def start_session() -> Any:
    """Starts a session (``provisioning``: its desktop boots meanwhile)."""
    return _form(
        "start", "web.sessions", _sessions_page,
        lambda who: services().sessions.create(_start_form(), who),
    )  # fmt: skip


@bp.post("/sessions/<int:session_id>/end")
def end_session(session_id: int) -> Any:
    """Ends a session; with the form's ``snapshot=true``, after a snapshot of its boot volume."""
    snapshot = request.form.get("snapshot") == "true"
    return _form(
        "end", "web.sessions", _sessions_page,
        lambda who: services().sessions.end(session_id, who, snapshot), session_id=session_id,
    )  # fmt: skip


@bp.post("/sessions/<int:session_id>/connect")
def connect_session(session_id: int) -> Any:
    """The answer shows a fresh one-time connection token of one's own ready session."""
    session.check_csrf()
    try:
        who = _allowed("connect", session_id=session_id)
        opened = services().sessions.get(session_id, who)
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for("web.sessions")), 303)
        return _sessions_page(exc.message, exc.status)
    if opened.connection is None or opened.connection.token is None:
        why = (
            f"Session {session_id} is {opened.state}: connect once it is ready."
            if opened.user == who.name
            else f"Only {opened.user} connects to session {session_id}: a token is theirs alone."
        )
        return _sessions_page(why, 409)
    html, status = _sessions_page(opened=opened)
    return html, status, {"Cache-Control": "no-store"}


@bp.get("/snapshots")
@page(Permission.SESSIONS)
def snapshots() -> Any:
    return _snapshots_page()


def _take_form() -> SnapshotCreate:
    form = request.form
    try:
        return SnapshotCreate.model_validate(
            {
                "session_id": form.get("session_id", "").strip() or None,
                "description": form.get("description", "").strip(),
                "schedule": form.get("schedule") == "true",
            },
            strict=False,
        )
    except ValidationError as exc:
        raise InvalidInput(
            "Choose one of your running sessions to snapshot; a note is at most 500 characters."
        ) from exc


@bp.post("/snapshots")
def take_snapshot() -> Any:
    """Takes a snapshot of one's running session (and every day, with the checkbox)."""
    return _form(
        "take", "web.snapshots", _snapshots_page,
        lambda who: services().snapshots.create(_take_form(), who),
    )  # fmt: skip


@bp.post("/snapshots/<int:snapshot_id>/delete")
def delete_snapshot(snapshot_id: int) -> Any:
    """Deletes a snapshot; with the form's ``archive=true``, copies it to the archive first."""
    archive = request.form.get("archive") == "true"
    return _form(
        "delete", "web.snapshots", _snapshots_page,
        lambda who: services().snapshots.delete(snapshot_id, archive, who),
        snapshot_id=snapshot_id,
    )  # fmt: skip


@bp.post("/snapshots/schedules/<int:session_id>/stop")
def stop_daily_snapshots(session_id: int) -> Any:
    """Stops a session's daily snapshots (those taken stay)."""
    return _form(
        "unschedule", "web.snapshots", _snapshots_page,
        lambda who: services().snapshots.unschedule(session_id, who),
        session_id=session_id,
    )  # fmt: skip
