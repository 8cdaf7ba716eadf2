"""The dashboard's blueprint and what every page shares: who is signed in, what they may do."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.exceptions import Forbidden

from common.models import Job
from common.states import JobState, TaskState
from daemon.api import jobs as jobs_api
from daemon.api.routing import Operation
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
}


def job_operation(action: str) -> Operation:
    """The declared API operation a job button stands for."""
    method, path = JOB_ACTIONS[action]
    return next(op for op in jobs_api.bp.operations if (op.method, op.path) == (method, path))


def applies(action: str, job: Job) -> bool:
    """Whether ``action`` makes sense for the job in its state (else its button is hidden)."""
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
    op = job_operation(action)
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
        "disk_warning": disk_warning,
    }


def disk_warning() -> str | None:
    """The banner every signed-in page shows while the daemon's data disk runs low."""
    return services().monitoring.disk.warning()


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden) -> tuple[str, int]:
    message = exc.description or "You may not do this."
    return render_template("error.html", title="Not allowed", message=message), 403
