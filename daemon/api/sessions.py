"""``/api/v1/sessions``: artists' desktops in the cloud: the profiles offered, start, list, read
(with a one-time connection token), end; what a desktop itself calls (its reports, and the
broker's redeem of a connection token, both with its session's secret); a user's session
history and the desktop audit log."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from common.errors import (
    ConnectionRefused,
    DesktopsOff,
    DesktopUnauthorized,
    Forbidden,
    IllegalStateChange,
    InvalidInput,
    NoRunningDesktop,
    NotFound,
    SnapshotUnavailable,
    TooManySessions,
)
from common.models import (
    DesktopAuditQuery,
    DesktopAuditRecord,
    DesktopProfileInfo,
    DesktopReport,
    DesktopReportReply,
    DesktopSession,
    SessionCreate,
    SessionEnd,
    SessionQuery,
    TokenRedeem,
    TokenRedeemed,
)
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.auth.keys import bearer_token
from daemon.container import services
from daemon.services.connection_broker import ConnectionBroker
from daemon.services.desktop_sessions import SessionService

bp = ApiBlueprint("sessions", __name__, tag="sessions")


class DesktopHeaders(BaseModel):
    """The session's secret, as a desktop sends it."""

    model_config = ConfigDict(extra="forbid")

    authorization: str | None = Field(
        default=None, alias="Authorization",
        description="'Bearer <the session's secret>' (the desktop agent's secret file).",
    )  # fmt: skip


def sessions() -> SessionService:
    return services().sessions


def broker() -> ConnectionBroker:
    return services().sessions.broker


@bp.operation(
    "GET", "/sessions/profiles", "The desktop profiles offered to you",
    returns=DesktopProfileInfo, returns_list=True, permission=Permission.SESSIONS,
)  # fmt: skip
def profiles() -> list[DesktopProfileInfo]:
    return sessions().profiles(current_principal())


@bp.operation(
    "POST", "/sessions",
    "Start a desktop session: answered at once (provisioning); the desktop boots meanwhile",
    body=SessionCreate, returns=DesktopSession, status=201,
    errors=(InvalidInput, Forbidden, NotFound, DesktopsOff, TooManySessions,
            SnapshotUnavailable),
    permission=Permission.SESSIONS,
)  # fmt: skip
def create_session(body: SessionCreate) -> DesktopSession:
    return sessions().create(body, current_principal())


@bp.operation(
    "GET", "/sessions", "Your desktop sessions (TDs and admins: anyone's), newest first",
    query=SessionQuery, returns=DesktopSession, returns_list=True, errors=(Forbidden,),
    permission=Permission.SESSIONS,
)  # fmt: skip
def list_sessions(query: SessionQuery) -> list[DesktopSession]:
    return sessions().list_sessions(query, current_principal())


@bp.operation(
    "GET", "/sessions/<int:session_id>",
    "A desktop session; your own ready one comes with a fresh one-time connection token",
    returns=DesktopSession, errors=(NotFound,), permission=Permission.SESSIONS,
)  # fmt: skip
def get_session(session_id: int) -> DesktopSession:
    return sessions().get(session_id, current_principal())


@bp.operation(
    "DELETE", "/sessions/<int:session_id>",
    "End a desktop session (optionally after a snapshot of its boot volume)",
    query=SessionEnd, returns=DesktopSession,
    errors=(NotFound, IllegalStateChange, NoRunningDesktop),
    permission=Permission.SESSIONS,
)  # fmt: skip
def end_session(session_id: int, query: SessionEnd) -> DesktopSession:
    return sessions().end(session_id, current_principal(), query.snapshot)


@bp.operation(
    "POST", "/sessions/<int:session_id>/desktop/report",
    "A desktop reports (with its session's secret); the answer says when it ends",
    body=DesktopReport, headers=DesktopHeaders, returns=DesktopReportReply,
    errors=(DesktopUnauthorized, InvalidInput, NotFound), permission=Permission.PUBLIC,
)  # fmt: skip
def desktop_report(
    session_id: int, body: DesktopReport, headers: DesktopHeaders
) -> DesktopReportReply:
    return broker().report(session_id, bearer_token(headers.authorization), body)


@bp.operation(
    "POST", "/sessions/<int:session_id>/desktop/redeem",
    "A desktop asks whether a client's one-time connection token is good (once)",
    body=TokenRedeem, headers=DesktopHeaders, returns=TokenRedeemed,
    errors=(DesktopUnauthorized, ConnectionRefused, NotFound), permission=Permission.PUBLIC,
)  # fmt: skip
def desktop_redeem(session_id: int, body: TokenRedeem, headers: DesktopHeaders) -> TokenRedeemed:
    return broker().redeem(session_id, bearer_token(headers.authorization), body)


@bp.operation(
    "GET", "/users/<int:user_id>/sessions",
    "A user's desktop session history (the user themself, TDs and admins)",
    returns=DesktopSession, returns_list=True, errors=(Forbidden, NotFound),
    permission=Permission.SESSIONS,
)  # fmt: skip
def user_sessions(user_id: int) -> list[DesktopSession]:
    return sessions().history(user_id, current_principal())


@bp.operation(
    "GET", "/audit/desktops",
    "Every desktop session and snapshot action: who did what to whose, newest first",
    query=DesktopAuditQuery, returns=DesktopAuditRecord, returns_list=True,
    permission=Permission.AUDIT_READ,
)  # fmt: skip
def desktop_audit(query: DesktopAuditQuery) -> list[DesktopAuditRecord]:
    return sessions().audit(query)
