"""Wire models of what the daemon keeps about desktop sessions: the filters of their listings
and the desktop audit log (every session and snapshot action, who did it, to whom)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from common.models.base import EntityId, Name, WireModel
from common.models.desktops import SessionState


class SessionQuery(WireModel):
    """Filters of ``GET /sessions``: one's own sessions (TDs and admins: anyone's, or
    ``user``'s), newest first."""

    state: SessionState | None = None
    user: Name | None = None
    """Whose sessions (TDs and admins); an artist may name only themself."""
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class DesktopAuditQuery(WireModel):
    """Filters of ``GET /audit/desktops``; pages are newest first, ``before_id`` the last
    record's id of the previous page."""

    session_id: EntityId | None = None
    snapshot_id: EntityId | None = None
    user: Name | None = None
    before_id: EntityId | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class DesktopAuditRecord(WireModel):
    """One session or snapshot action: ``actor`` (a person, or ``daemon``) did ``action`` to
    ``user``'s session or snapshot."""

    id: int
    at: datetime
    actor: str
    action: str
    """``session.start``, ``session.connect``, ``session.ended``, ``snapshot.create``..."""
    session_id: int | None
    snapshot_id: int | None
    user: str
    detail: str
