"""``/api/v1/shotgrid``: the health of the ShotGrid sync and write-back."""

from __future__ import annotations

from common.models import ShotGridStatus
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services

bp = ApiBlueprint("shotgrid", __name__, tag="shotgrid")


@bp.operation(
    "GET", "/shotgrid/status", "ShotGrid sync health: last success, errors, staleness, outbox",
    returns=ShotGridStatus, permission=Permission.JOBS_READ,
)  # fmt: skip
def status() -> ShotGridStatus:
    return services().shotgrid.status()
