"""``/api/v1/resources`` and the cloud's money: every node, the pool by hand, budgets, spend,
and each job's route (why its frames may or may not go to the cloud)."""

from __future__ import annotations

from common.errors import ConfigError, InvalidInput, NotFound
from common.models import (
    BudgetChange,
    JobRoute,
    Resource,
    ScaleRequest,
    ScaleResult,
    ShowSpend,
    SpendReport,
)
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services.burst import BurstService
from daemon.services.resources import ResourceService

bp = ApiBlueprint("resources", __name__, tag="resources")


def burst() -> BurstService:
    return services().burst


def nodes() -> ResourceService:
    return services().resources


@bp.operation(
    "GET", "/resources",
    "Every render node, local and cloud: CPUs, GPUs, memory, disk, load, state and cost",
    returns=Resource, returns_list=True, permission=Permission.AGENTS_READ,
)  # fmt: skip
def resources() -> list[Resource]:
    return nodes().resources()


@bp.operation(
    "POST", "/resources/scale",
    "Set the cloud pool by hand: keep at least `count` nodes, or release them",
    body=ScaleRequest, returns=ScaleResult, errors=(ConfigError, InvalidInput),
    permission=Permission.CLOUD_MANAGE,
)  # fmt: skip
def scale(body: ScaleRequest) -> ScaleResult:
    return nodes().scale(body)


@bp.operation(
    "GET", "/cloud/spend",
    "Cloud spend per show (with budget, committed and room) and per job",
    returns=SpendReport, permission=Permission.REPORTS_READ,
)  # fmt: skip
def spend() -> SpendReport:
    return burst().books.spend()


@bp.operation(
    "PUT", "/shows/<project>/budget",
    "Set a show's cloud budget (0: no cloud work; running cloud tasks finish)",
    body=BudgetChange, returns=ShowSpend, errors=(InvalidInput,),
    permission=Permission.SHOWS_MANAGE,
)  # fmt: skip
def set_budget(project: str, body: BudgetChange) -> ShowSpend:
    return burst().books.set_budget(project, body.budget, current_principal().name)


@bp.operation(
    "GET", "/jobs/<int:job_id>/route",
    "Where the job's frames may render now and why (the last routing pass)",
    returns=JobRoute, errors=(NotFound,), permission=Permission.JOBS_READ,
)  # fmt: skip
def route(job_id: int) -> JobRoute:
    found = burst().route(job_id)
    if found is None:
        raise NotFound(
            f"Job {job_id} has no route: it is finished, unknown, or the farm does not burst."
        )
    return found
