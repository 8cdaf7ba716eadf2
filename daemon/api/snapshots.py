"""``/api/v1/snapshots``: boot volume snapshots of one's own desktop sessions (anyone's, for TDs
and admins): take one (and every day), list, see, archive or delete."""

from __future__ import annotations

from common.errors import (
    DesktopsOff,
    Forbidden,
    InvalidInput,
    NoRunningDesktop,
    NotFound,
    SnapshotUnavailable,
)
from common.models import (
    Snapshot,
    SnapshotCreate,
    SnapshotDelete,
    SnapshotQuery,
    SnapshotSchedule,
)
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.backends.base import CloudError
from daemon.backends.desktops import DesktopRefused
from daemon.container import services
from daemon.services.snapshots import SnapshotService

bp = ApiBlueprint("snapshots", __name__, tag="snapshots")

#: What the cloud may answer to a snapshot, an archive or a deletion.
CLOUD_ERRORS = (DesktopRefused, CloudError)


def snapshots() -> SnapshotService:
    return services().snapshots


@bp.operation(
    "POST", "/snapshots",
    "Snapshot the boot volume of one of your running desktop sessions (by session_id or "
    "instance_id); with schedule=true, also every day by its profile's policy",
    body=SnapshotCreate, returns=Snapshot, status=201,
    errors=(InvalidInput, NotFound, DesktopsOff, NoRunningDesktop, *CLOUD_ERRORS),
    permission=Permission.SESSIONS,
)  # fmt: skip
def create_snapshot(body: SnapshotCreate) -> Snapshot:
    return snapshots().create(body, current_principal())


@bp.operation(
    "GET", "/snapshots",
    "Your desktop snapshots, newest first (TDs and admins: everyone's, or one person's)",
    query=SnapshotQuery, returns=Snapshot, returns_list=True, errors=(InvalidInput, Forbidden),
    permission=Permission.SESSIONS,
)  # fmt: skip
def list_snapshots(query: SnapshotQuery) -> list[Snapshot]:
    return snapshots().list(query, current_principal())


@bp.operation(
    "GET", "/snapshots/<int:snapshot_id>",
    "One of your desktop snapshots (one being made is first asked of the cloud)",
    returns=Snapshot, errors=(NotFound,), permission=Permission.SESSIONS,
)  # fmt: skip
def get_snapshot(snapshot_id: int) -> Snapshot:
    return snapshots().get(snapshot_id, current_principal())


@bp.operation(
    "DELETE", "/snapshots/<int:snapshot_id>",
    "Delete one of your desktop snapshots, or with archive=true copy it to the archive first",
    query=SnapshotDelete, returns=Snapshot,
    errors=(InvalidInput, NotFound, DesktopsOff, SnapshotUnavailable, *CLOUD_ERRORS),
    permission=Permission.SESSIONS,
)  # fmt: skip
def delete_snapshot(snapshot_id: int, query: SnapshotDelete) -> Snapshot:
    return snapshots().delete(snapshot_id, query.archive, current_principal())


@bp.operation(
    "DELETE", "/snapshots/schedules/<int:session_id>",
    "Stop the daily snapshots of one of your desktop sessions (those taken stay)",
    returns=SnapshotSchedule, errors=(NotFound,), permission=Permission.SESSIONS,
)  # fmt: skip
def stop_schedule(session_id: int) -> SnapshotSchedule:
    snapshots().unschedule(session_id, current_principal())
    return SnapshotSchedule(session_id=session_id, scheduled=False)
