"""``/api/v1/jobs/{id}/tasks/{task_id}/...``: what people do to one task of a job.

Each action is allowed to the job's owner and to whoever holds ``jobs.manage`` (as the job's
own actions are); the service checks that the task belongs to the job and may make the move.
"""

from __future__ import annotations

from common.errors import IllegalStateChange, NotFound
from common.models import Task, TaskAction
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services

bp = ApiBlueprint("tasks", __name__, tag="jobs")

_ERRORS = (NotFound, IllegalStateChange)


def _act(job_id: int, task_id: int, action: TaskAction) -> Task:
    return services().task_control.act(job_id, task_id, action)


@bp.operation(
    "POST", "/jobs/<int:job_id>/tasks/<int:task_id>/retry",
    "Render a failed task again with a fresh retry budget (a failed job opens again)",
    returns=Task, permission=Permission.JOBS_MANAGE, owner_may=True, errors=_ERRORS,
)  # fmt: skip
def retry_task(job_id: int, task_id: int) -> Task:
    return _act(job_id, task_id, TaskAction.RETRY)


@bp.operation(
    "POST", "/jobs/<int:job_id>/tasks/<int:task_id>/requeue",
    "Put a leased or running task back in the queue, no retry spent (its agent stops it)",
    returns=Task, permission=Permission.JOBS_MANAGE, owner_may=True, errors=_ERRORS,
)  # fmt: skip
def requeue_task(job_id: int, task_id: int) -> Task:
    return _act(job_id, task_id, TaskAction.REQUEUE)


@bp.operation(
    "POST", "/jobs/<int:job_id>/tasks/<int:task_id>/suspend",
    "Hold a queued task back: no agent gets it until it is resumed",
    returns=Task, permission=Permission.JOBS_MANAGE, owner_may=True, errors=_ERRORS,
)  # fmt: skip
def suspend_task(job_id: int, task_id: int) -> Task:
    return _act(job_id, task_id, TaskAction.SUSPEND)


@bp.operation(
    "POST", "/jobs/<int:job_id>/tasks/<int:task_id>/resume",
    "Put a suspended task back in the queue",
    returns=Task, permission=Permission.JOBS_MANAGE, owner_may=True, errors=_ERRORS,
)  # fmt: skip
def resume_task(job_id: int, task_id: int) -> Task:
    return _act(job_id, task_id, TaskAction.RESUME)
