"""``/api/v1/jobs/{id}/kept-off``: the nodes kept off a job after failing it too often."""

from __future__ import annotations

from common.errors import NotFound
from common.models import KeptOffNode
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services

bp = ApiBlueprint("kept_off", __name__, tag="jobs")


@bp.operation(
    "GET", "/jobs/<int:job_id>/kept-off",
    "The nodes kept off a job after failing it [failures] node_failures_per_job times",
    returns=KeptOffNode, returns_list=True, permission=Permission.JOBS_READ, errors=(NotFound,),
)  # fmt: skip
def list_kept_off(job_id: int) -> list[KeptOffNode]:
    return services().failures.kept_off(job_id)


@bp.operation(
    "DELETE", "/jobs/<int:job_id>/kept-off/<agent_id>",
    "Let a node kept off a job take its tasks again (its count of failures starts afresh)",
    permission=Permission.JOBS_MANAGE, errors=(NotFound,),
)  # fmt: skip
def clear_kept_off(job_id: int, agent_id: str) -> None:
    services().failures.clear_kept_off(job_id, agent_id, current_principal().name)
