"""The dashboard's blueprint and what every page shares: who is signed in, what they may do."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.exceptions import Forbidden

from common.models import Job, Task, TaskAction
from common.states import JobState, TaskState
from daemon.api import jobs as jobs_api
from daemon.api import tasks as tasks_api
from daemon.api.routing import ApiBlueprint, Operation
from daemon.auth import Permission
from daemon.container import services
from daemon.web import session

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static",
    static_url_path="/dashboard-static",
)  # fmt: skip

View = Callable[..., Any]

#: The API operations behind the job buttons: the same declarations the API guard checks.
JOB_ACTIONS: dict[str, tuple[str, str]] = {
    "cancel": ("DELETE", "/jobs/<int:job_id>"),
    "pause": ("POST", "/jobs/<int:job_id>/pause"),
    "resume": ("POST", "/jobs/<int:job_id>/resume"),
    "retry": ("POST", "/jobs/<int:job_id>/retry"),
    "priority": ("PUT", "/jobs/<int:job_id>/priority"),
    "resubmit": ("POST", "/jobs/<int:job_id>/resubmit"),
    "archive": ("POST", "/jobs/<int:job_id>/archive"),
    "unarchive": ("POST", "/jobs/<int:job_id>/unarchive"),
    "delete": ("DELETE", "/jobs/<int:job_id>/record"),
}

#: The API operations behind the buttons of a task's row.
TASK_ACTIONS: dict[TaskAction, tuple[str, str]] = {
    action: ("POST", f"/jobs/<int:job_id>/tasks/<int:task_id>/{action.value}")
    for action in TaskAction
}

#: The task states each task button is shown for (the service decides, this only hides).
_TASK_BUTTONS: dict[TaskAction, tuple[TaskState, ...]] = {
    TaskAction.RETRY: (TaskState.FAILED,),
    TaskAction.REQUEUE: (TaskState.LEASED, TaskState.RUNNING),
    TaskAction.SUSPEND: (TaskState.QUEUED,),
    TaskAction.RESUME: (TaskState.SUSPENDED,),
}


def declared(blueprint: ApiBlueprint, method: str, path: str) -> Operation:
    """The operation ``blueprint`` declares for ``method`` and ``path`` (the guard's rule)."""
    return next(op for op in blueprint.operations if (op.method, op.path) == (method, path))


def job_operation(action: str) -> Operation:
    """The declared API operation a job button stands for."""
    return declared(jobs_api.bp, *JOB_ACTIONS[action])


def task_operation(action: TaskAction) -> Operation:
    """The declared API operation a task button stands for."""
    return declared(tasks_api.bp, *TASK_ACTIONS[action])


def applies(action: str, job: Job) -> bool:
    """Whether ``action`` makes sense for the job in its state (else its button is hidden)."""
    if action in ("resubmit", "delete"):  # the API clones any job; the page offers ended ones
        return job.state.finished
    if action == "archive":
        return job.state.finished and job.archived_at is None
    if action == "unarchive":
        return job.archived_at is not None
    if action == "pause":
        return job.state in (JobState.QUEUED, JobState.WAITING, JobState.RUNNING)
    if action == "resume":
        return job.state is JobState.PAUSED
    if action == "retry":
        return job.task_counts.get(TaskState.FAILED, 0) > 0
    return not job.state.finished


def may_act(action: str, job: Job) -> bool:
    """Whether the signed-in user may press ``action`` on ``job`` now (the guard's rule)."""
    if not applies(action, job):
        return False
    return _may(job_operation(action), job)


def may_act_on_task(action: TaskAction, task: Task, job: Job) -> bool:
    """Whether the signed-in user may press ``action`` on the job's ``task`` now."""
    if task.state not in _TASK_BUTTONS[action]:
        return False
    if job.state.finished and not (action is TaskAction.RETRY and job.state is JobState.FAILED):
        return False
    return _may(task_operation(action), job)


def _may(op: Operation, job: Job) -> bool:
    """The guard's rule for the signed-in user, ``op`` and ``job``."""
    who = session.principal()
    if op.permission is None or who.kind != "user":
        return False
    return who.may(op.permission) or (op.owner_may and job.spec.owner == who.name)


def page(permission: Permission) -> Callable[[View], View]:
    """A page for signed-in users holding ``permission``; others are sent to sign in (or 403)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(**params: Any) -> Any:
            who = session.principal()
            if who.kind != "user":
                target = request.full_path if request.query_string else request.path
                return redirect(url_for("web.login") + "?" + urlencode({"next": target}))
            if not who.may(permission):
                abort(403, f"Your role ({who.role}) cannot open this page; it needs {permission}.")
            return view(**params)

        return wrapper

    return decorate


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {
        "me": session.principal(),
        "csrf_token": session.csrf_token,
        "csrf_field": session.CSRF_FIELD,
        "Permission": Permission,
        "may_act": may_act,
        "may_act_on_task": may_act_on_task,
        "task_actions": list(TaskAction),
        "disk_warning": disk_warning,
    }


def disk_warning() -> str | None:
    """The banner every signed-in page shows while the daemon's data disk runs low."""
    return services().monitoring.disk.warning()


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden) -> tuple[str, int]:
    message = exc.description or "You may not do this."
    return render_template("error.html", title="Not allowed", message=message), 403
