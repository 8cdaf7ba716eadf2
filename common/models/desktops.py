"""Wire models of artists' desktops in the cloud: sessions, their connections, snapshots, and
what a desktop itself tells the daemon (its reports, and the one-time tokens it redeems)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from common.models.base import EntityId, Name, WireModel

SessionState = Literal["provisioning", "ready", "idle", "ending", "ended", "failed"]
"""``provisioning``: asked for, booting; ``ready``: its desktop reported and takes connections;
``idle``: ready, nobody connected for a while; ``ending``: told to end (grace, snapshot);
``ended``; ``failed``: it never became ready, or its desktop was lost."""
LIVE_SESSION_STATES = ("provisioning", "ready", "idle", "ending")
"""Not ended yet: what counts against ``[sessions] max_sessions_per_user``."""
ENDED_SESSION_STATES = ("ended", "failed")
"""Over: nothing more happens to the session."""
ENDABLE_SESSION_STATES = ("provisioning", "ready", "idle")
"""Live and not told to end yet: what a warning or an end may move on."""
READY_SESSION_STATES = ("ready", "idle")
"""Its desktop reported: it takes connections, and its daily snapshot is taken."""
RUNNING_SESSION_STATES = ("ready", "idle", "ending")
"""Its desktop runs: a snapshot may be taken of it."""
SnapshotKind = Literal["full", "incremental"]
SnapshotState = Literal["creating", "available", "archiving", "archived", "deleted", "failed"]
Description = Annotated[str, Field(max_length=500)]
#: The longest session anyone may ask for (a profile and ``[sessions]`` bound it further).
MAX_SESSION_HOURS = 24 * 14


class DesktopProfileInfo(WireModel):
    """A desktop profile as offered to one person (``GET /sessions/profiles``)."""

    name: str
    description: str
    shape: str
    ocpus: float | None
    memory_gb: float | None
    gpus: int
    boot_volume_gb: int
    protocol: str
    projects: list[str]
    price_per_hour: float
    max_duration_h: float
    idle_timeout_s: float


class SessionCreate(WireModel):
    """``POST /sessions``: start a desktop."""

    profile: Name
    """A ``[[desktops]]`` profile offered to the session's user."""
    duration_h: Annotated[float, Field(gt=0, le=MAX_SESSION_HOURS)] | None = None
    """How long the session may last; None: ``[sessions] default_duration_h``."""
    user: Name | None = None
    """Whose session (TDs and admins may name another person); None: the caller."""
    project: Name | None = None
    """The project it opens and whose budget pays; None: the profile's only project."""
    snapshot_id: EntityId | None = None
    """Start from this snapshot's boot volume (one of the user's own)."""


class Connection(WireModel):
    """How a client reaches a ready desktop."""

    protocol: str
    host: str
    port: int
    token: str | None = None
    """A one-time connection token from the daemon's broker: the desktop accepts it once,
    before ``token_expires_at``. Only the session's own user is given one."""
    token_expires_at: datetime | None = None


class DesktopSession(WireModel):
    """One artist's desktop session."""

    id: int
    user: str
    project: str
    profile: str
    state: SessionState
    detail: str = ""
    """Why it is in its state (``ends at 18:00 UTC``, ``idle for 61 min``, ``desktop lost``)."""
    backend: str
    instance_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    """When its desktop first reported ready."""
    ends_at: datetime
    time_left_s: float
    idle_s: float | None = None
    """Seconds since anyone used it, as its desktop last reported."""
    connection: Connection | None = None
    """Once ``ready`` or ``idle``."""
    price_per_hour: float = 0.0
    cost: float = 0.0
    """Spent so far (booked to the user and the project when it ends)."""
    snapshot_id: int | None = None
    """The snapshot it started from."""
    end_snapshot_id: int | None = None
    """The snapshot taken as it ended."""
    ended_at: datetime | None = None


class SessionEnd(WireModel):
    """``DELETE /sessions/{id}`` query: end it, with a snapshot of its boot volume first."""

    snapshot: bool = False


class SnapshotCreate(WireModel):
    """``POST /snapshots``: back up a session's (or a desktop instance's) boot volume."""

    session_id: EntityId | None = None
    instance_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    description: Description = ""
    schedule: bool = False
    """Also snapshot it every day while the session lives, by its profile's policy (daily
    incremental, weekly full, keep 7 daily and 4 weekly)."""

    @model_validator(mode="after")
    def _one_desktop(self) -> SnapshotCreate:
        if (self.session_id is None) == (self.instance_id is None):
            raise ValueError(
                "name the desktop to snapshot with exactly one of session_id (a session's id) "
                "or instance_id (its desktop instance's id)"
            )
        return self


class SnapshotQuery(WireModel):
    """``GET /snapshots`` query."""

    session_id: EntityId | None = None
    """Only the snapshots of this session."""
    user: Name | None = None
    """Only this person's snapshots (TDs and admins; others see only their own)."""


class Snapshot(WireModel):
    """One boot volume snapshot of a desktop."""

    id: int
    session_id: int | None
    instance_id: str
    user: str
    project: str
    profile: str
    description: str
    kind: SnapshotKind
    scheduled: bool
    state: SnapshotState
    size_gb: float | None = None
    created_at: datetime
    backup_id: str
    """The backend's id of the backup (a boot volume backup OCID, ``simbackup-...``)."""
    archive_uri: str | None = None
    detail: str = ""


class SnapshotSchedule(WireModel):
    """Whether a session's boot volume is snapshotted every day."""

    session_id: int
    scheduled: bool


class SnapshotDelete(WireModel):
    """``DELETE /snapshots/{id}`` query: copy it to the archive before removing it."""

    archive: bool = False


class DesktopReport(WireModel):
    """What a desktop tells the daemon every ``report_interval_s`` (with its session secret)."""

    host: Annotated[str, Field(min_length=1, max_length=255)]
    port: Annotated[int, Field(ge=1, le=65535)]
    connected: bool = False
    """A client is connected now."""
    idle_s: Annotated[float, Field(ge=0, le=10**9)] = 0.0
    """Seconds since a client last used the desktop (or since it started, never used)."""


class DesktopReportReply(WireModel):
    """The daemon's answer to a report: when the session ends, and what to tell the user."""

    ends_at: datetime
    warning: str | None = None
    """A sentence to show the user (the session ends soon, or is ending now)."""
    end_now: bool = False
    """Save what can be saved and stop within ``grace_s``: the instance is then terminated."""
    grace_s: float = 0.0
    report_interval_s: float


class TokenRedeem(WireModel):
    """A desktop asks the broker whether a client's connection token is good (once)."""

    token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenRedeemed(WireModel):
    """The broker took the token: this person may connect to this session."""

    session_id: int
    user: str
