"""The forms that change a job: pause, resume, cancel, retry, priority.

Each checks the CSRF token, then the API guard with the declared operation of the button, then
calls the same service method as the JSON API.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import redirect, render_template, request, url_for
from pydantic import ValidationError

from common.errors import CloudburstError, InvalidInput
from common.models import PriorityChange
from common.states import TaskState
from daemon.api.guard import authorize
from daemon.container import services
from daemon.services import JobService
from daemon.web import session
from daemon.web.blueprint import JOB_ACTIONS, bp, job_operation
from daemon.web.job_view import job_context

logger = logging.getLogger(__name__)


def _run(jobs: JobService, action: str, job_id: int) -> None:
    who = session.principal()
    if action == "cancel":
        jobs.cancel(job_id, f"Cancelled by {who.name} from the dashboard.")
    elif action == "pause":
        jobs.pause(job_id)
    elif action == "resume":
        jobs.resume(job_id)
    elif action == "retry":
        jobs.retry(job_id)
    else:
        try:
            change = PriorityChange(priority=int(request.form.get("priority", "")))
        except (ValueError, ValidationError) as exc:
            raise InvalidInput("The priority is a whole number from 0 to 100.") from exc
        jobs.set_priority(job_id, change.priority)


@bp.post("/jobs/<int:job_id>/<action>")
def job_action(job_id: int, action: str) -> Any:
    """One button of the job page; the answer is the job page again (303 after success)."""
    session.check_csrf()
    if action not in JOB_ACTIONS:
        return render_template("error.html", title="Not found", message="No such action."), 404
    found = services()
    try:
        op = job_operation(action)
        authorize(op.method, op.path, op.permission, op.owner_may, {"job_id": job_id})
        _run(found.jobs, action, job_id)
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for("web.job", job_id=job_id)), 303)
        if exc.status == 404:
            return render_template("error.html", title="Not found", message=exc.message), 404
        context = job_context(found, job_id)
        page = render_template(
            "job.html", **context, error=exc.message, task_states=list(TaskState)
        )
        return page, exc.status
    logger.info("%s: %s on job %s from the dashboard", session.principal().name, action, job_id)
    return redirect(url_for("web.job", job_id=job_id), code=303)
