"""``/api/v1/limits``: the named counters TDs set (licences, shared resources), with their use."""

from __future__ import annotations

from common.errors import InvalidInput, NotFound
from common.models import Limit, LimitChange
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services.limits import LimitService

bp = ApiBlueprint("limits", __name__, tag="limits")


def limits() -> LimitService:
    return services().limits


@bp.operation(
    "GET", "/limits", "Limits (licence counters) with the units in use now", returns=Limit,
    returns_list=True, permission=Permission.JOBS_READ,
)  # fmt: skip
def list_limits() -> list[Limit]:
    return limits().list_limits()


@bp.operation(
    "PUT", "/limits/<name>",
    "Set a limit: how many tasks of the jobs listing it may run at once (farm-wide or per node)",
    body=LimitChange, returns=Limit, errors=(InvalidInput,), permission=Permission.LIMITS_MANAGE,
)  # fmt: skip
def put_limit(name: str, body: LimitChange) -> Limit:
    return limits().put(name, body, current_principal().name)


@bp.operation(
    "DELETE", "/limits/<name>", "Remove a limit: the jobs listing it are no longer held by it",
    returns=Limit, errors=(InvalidInput, NotFound), permission=Permission.LIMITS_MANAGE,
)  # fmt: skip
def delete_limit(name: str) -> Limit:
    return limits().delete(name, current_principal().name)
