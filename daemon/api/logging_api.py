"""``/api/v1/logging/logs``: the daemon's own log records and the task logs, filtered, paged."""

from __future__ import annotations

from common.errors import InvalidInput
from common.models import LogPage, LogQuery
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services

bp = ApiBlueprint("logging", __name__, tag="logging")


@bp.operation(
    "GET", "/logging/logs",
    "Log entries by job, task, agent, service, lowest level, time range and text; paged "
    "(`source=task` searches a job's render logs)",
    query=LogQuery, returns=LogPage, errors=(InvalidInput,), permission=Permission.LOGS_READ,
)  # fmt: skip
def logs(query: LogQuery) -> LogPage:
    return services().logs.search(query)
