"""The forms that change a job (pause, resume, cancel, retry, priority, resubmit, archive,
unarchive, delete), one of its tasks (retry, requeue, suspend, resume), and the queue's
selection of jobs (cancel, pause, resume, priority).

Each checks the CSRF token, then the API guard with the declared operation of the button (for
each job of a selection), then calls the same service method as the JSON API.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from flask import abort, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from common.errors import CloudburstError, InvalidInput
from common.models import MAX_INTEGER, PriorityChange, Resubmission, TaskAction
from common.states import TaskState
from daemon.api.guard import authorize
from daemon.api.routing import Operation
from daemon.auth import Permission
from daemon.container import Services, services
from daemon.web import session
from daemon.web.blueprint import JOB_ACTIONS, bp, job_operation, task_operation
from daemon.web.job_view import job_context, log_task_id, tasks_offset
from daemon.web.queue_view import queue_page, read_query

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
        jobs.set_priority(job_id, _priority())
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
    offset = tasks_offset()  # back to the page of tasks it was on (none named on the first)
    back = url_for("web.job", job_id=job_id, tasks_offset=offset) if offset else None
    return redirect(target or back or url_for("web.job", job_id=job_id), 303)


BULK_ACTIONS = ("cancel", "pause", "resume", "priority")
"""The queue's buttons for a selection of jobs: each is its job button, job by job."""
BULK_MAX = 500
"""The most jobs one selection may hold (a page shows 50)."""

_DONE_WORDS = {"cancel": "Cancelled", "pause": "Paused", "resume": "Resumed",
               "priority": "Set the priority of"}  # fmt: skip


@bp.post("/jobs/bulk")
def bulk_action() -> Any:
    """One button for the jobs selected on the queue page. Each job goes through the API
    guard with its own button's declared operation; the jobs the caller may not touch (or that
    cannot move) are refused one by one and named, the others are changed. Bad input (no job,
    an unknown action, a priority out of range) changes nothing."""
    session.check_csrf()
    back = _queue_args(request.form.get("back", ""))
    who = session.principal()
    if who.kind != "user":
        return redirect(url_for("web.login", next=url_for("web.queue")), 303)
    if not who.may(Permission.JOBS_READ):  # the answer is the queue page
        needs = Permission.JOBS_READ
        abort(403, f"Your role ({who.role}) cannot open the queue; it needs {needs}.")
    action = request.form.get("action", "")
    try:
        chosen = _selection(request.form.getlist("job"))
        if action not in BULK_ACTIONS:
            raise InvalidInput("Choose what to do with the selection: cancel, pause, resume or "
                               "set its priority.")  # fmt: skip
        if action == "priority":
            _priority()
    except InvalidInput as exc:
        return queue_page(back, error=exc.message, status=exc.status)
    found = services()
    op = job_operation(action)
    done: list[int] = []
    refused: list[str] = []
    status = 200
    for job_id in chosen:
        try:
            authorize(op.method, op.path, op.permission, op.owner_may, {"job_id": job_id})
            _run(found, action, job_id)
        except CloudburstError as exc:
            if exc.status == 401:
                return redirect(url_for("web.login", next=url_for("web.queue")), 303)
            refused.append(f"job {job_id}: {exc.message}")
            status = exc.status
        else:
            done.append(job_id)
    logger.info(
        "%s: %s on jobs %s from the queue (refused %d)", who.name, action, done, len(refused)
    )
    if not refused:
        return redirect(read_query(back).url(), 303)
    said = f"{_DONE_WORDS[action]} {_jobs(done)}." if done else "Nothing was changed."
    notice = f"{said} Refused {len(refused)}: " + "; ".join(refused)
    return queue_page(back, notice=notice, status=200 if done else status)


def _queue_args(back: str) -> MultiDict[str, str]:
    """The queue listing the form came from (its query only; never another address)."""
    query = back.partition("?")[2]
    args: MultiDict[str, str] = MultiDict(parse_qsl(query[:4000]))
    try:
        read_query(args)
    except InvalidInput:
        return MultiDict()
    return args


def _selection(values: list[str]) -> list[int]:
    """The selected job ids, each once, in the order sent.

    Raises:
        InvalidInput: nothing selected, too many, or a value that is not a job id.
    """
    if not values:
        raise InvalidInput("Select at least one job (tick its box), then press the button.")
    if len(values) > BULK_MAX:
        raise InvalidInput(f"Select at most {BULK_MAX} jobs at a time.")
    chosen: dict[int, None] = {}
    for value in values:
        number = value.isascii() and value.isdigit() and len(value) <= 30
        if not (number and 0 < int(value) <= MAX_INTEGER):
            raise InvalidInput(f"'{value[:20]}' is not a job number; reload the queue and select "
                               "again.")  # fmt: skip
        chosen[int(value)] = None
    return list(chosen)


def _priority() -> int:
    """The priority the form sends, checked before any job changes.

    Raises:
        InvalidInput: it is not a whole number from 0 to 100.
    """
    try:
        return PriorityChange(priority=int(request.form.get("priority", ""))).priority
    except (ValueError, ValidationError) as exc:
        raise InvalidInput("The priority is a whole number from 0 to 100.") from exc


def _jobs(ids: list[int]) -> str:
    """``job 3`` or ``3 jobs (1, 2, 5)``."""
    if len(ids) == 1:
        return f"job {ids[0]}"
    return f"{len(ids)} jobs ({', '.join(str(i) for i in ids)})"
