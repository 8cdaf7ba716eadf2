"""Just-in-time data: a job's files in the object store, the audit log of every file that left
the building, and the files of one task for the node that holds it."""

from __future__ import annotations

from common.data.task_data import TaskData
from common.errors import InvalidInput, NotFound, TaskNotYours
from common.models import AuditPage, AuditQuery, JobData
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services

bp = ApiBlueprint("data", __name__, tag="data")


@bp.operation(
    "GET", "/jobs/<int:job_id>/data",
    "The job's files in the object store (staging) and its frames coming home",
    returns=JobData, errors=(NotFound,), permission=Permission.JOBS_READ,
)  # fmt: skip
def job_data(job_id: int) -> JobData:
    return services().jobs.data(job_id)


@bp.operation(
    "GET", "/audit",
    "Every file that left the building: by job, user and time range; paged, newest first",
    query=AuditQuery, returns=AuditPage, errors=(InvalidInput,),
    permission=Permission.AUDIT_READ,
)  # fmt: skip
def audit(query: AuditQuery) -> AuditPage:
    return services().staging.audit(query)


@bp.operation(
    "GET", "/agents/<agent_id>/tasks/<int:task_id>/data",
    "The files a held task needs (its frames' share of the job's manifest) and the path table",
    returns=TaskData, errors=(NotFound, TaskNotYours), permission=Permission.AGENT_PROTOCOL,
)  # fmt: skip
def task_data(agent_id: str, task_id: int) -> TaskData:
    return services().agents.task_data(agent_id, task_id)
