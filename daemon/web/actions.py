"""The forms that change a job (pause, resume, cancel, retry, priority, resubmit, archive,
unarchive, delete) and one of its tasks (retry, requeue, suspend, resume).

Each checks the CSRF token, then the API guard with the declared operation of the button, then
calls the same service method as the JSON API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import redirect, render_template, request, url_for
from pydantic import ValidationError

from common.errors import CloudburstError, InvalidInput
from common.models import PriorityChange, Resubmission, TaskAction
from common.states import TaskState
from daemon.api.guard import authorize
from daemon.api.routing import Operation
from daemon.container import Services, services
from daemon.web import session
from daemon.web.blueprint import JOB_ACTIONS, bp, job_operation, task_operation
from daemon.web.job_view import job_context, log_task_id, tasks_offset

logger = logging.getLogger(__name__)


def _run(found: Services, action: str, job_id: int) -> str | None:
    """Runs a job button; returns where to go next when it is not the job's page."""
    jobs = found.jobs
    who = session.principal()
    if action == "resubmit":
        new = found.job_records.resubmit(job_id, Resubmission(), who)
        return url_for("web.job", job_id=new.id)
    if action in ("archive", "unarchive"):
        found.job_records.archive(job_id, archived=action == "archive")
    elif action == "delete":
        found.job_records.delete(job_id)
        return url_for("web.queue")
    elif action == "cancel":
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
    return None


@bp.post("/jobs/<int:job_id>/<action>")
def job_action(job_id: int, action: str) -> Any:
    """One button of the job page; the answer is the job page again (303 after success)."""
    session.check_csrf()
    if action not in JOB_ACTIONS:
        return render_template("error.html", title="Not found", message="No such action."), 404
    found = services()
    op = job_operation(action)
    return _answer(
        found, op, job_id, {"job_id": job_id}, action, lambda: _run(found, action, job_id)
    )


@bp.post("/jobs/<int:job_id>/tasks/<int:task_id>/<action>")
def task_action(job_id: int, task_id: int, action: str) -> Any:
    """One button of a task's row on the job page; the answer is the job page again."""
    session.check_csrf()
    if action not in TaskAction.__members__.values():
        return render_template("error.html", title="Not found", message="No such action."), 404
    found = services()
    chosen = TaskAction(action)
    op = task_operation(chosen)
    params = {"job_id": job_id, "task_id": task_id}

    def run() -> None:
        found.task_control.act(job_id, task_id, chosen)

    return _answer(found, op, job_id, params, f"{action} task {task_id}", run)


def _answer(
    found: Services,
    op: Operation,
    job_id: int,
    params: dict[str, Any],
    what: str,
    run: Callable[[], str | None],
) -> Any:
    """Checks ``op`` with the API guard, runs the button, and answers: the next page (303),
    or the job page with the refusal's sentence and status."""
    try:
        authorize(op.method, op.path, op.permission, op.owner_may, params)
        target = run()
    except CloudburstError as exc:
        if exc.status == 401:
            return redirect(url_for("web.login", next=url_for("web.job", job_id=job_id)), 303)
        if exc.status == 404:
            return render_template("error.html", title="Not found", message=exc.message), 404
        context = job_context(found, job_id, tasks_offset(), log_task_id())
        page = render_template(
            "job.html", **context, error=exc.message, task_states=list(TaskState)
        )
        return page, exc.status
    logger.info("%s: %s on job %s from the dashboard", session.principal().name, what, job_id)
    # the first page of tasks is the plain URL (None leaves the parameter out)
    back = url_for("web.job", job_id=job_id, tasks_offset=tasks_offset() or None)
    return redirect(target or back, 303)
