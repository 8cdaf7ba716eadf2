"""``/api/v1/backups``: the daemon's backups at its destination, for admins."""

from __future__ import annotations

from common.data.errors import StoreAccessDenied, StoreUnavailable
from common.models import BackupInfo
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.backup.errors import BackupsOff
from daemon.container import services

bp = ApiBlueprint("backups", __name__, tag="backups")


@bp.operation(
    "GET", "/backups",
    "The finished, verified backups at the `[backup]` destination, oldest first (404 "
    "`backups_off` when the daemon has none)",
    returns=BackupInfo, returns_list=True, permission=Permission.BACKUPS_READ,
    errors=(BackupsOff, StoreAccessDenied, StoreUnavailable),
)  # fmt: skip
def list_backups() -> list[BackupInfo]:
    return services().backups.list_backups()
