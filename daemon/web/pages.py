"""Sign-in and sign-out, the queue, and a job's page."""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response

from common.accounts import LoginRequest
from common.errors import CloudburstError, Forbidden, InvalidInput, NotFound, Unauthenticated
from common.states import TaskState
from daemon.auth import Permission
from daemon.container import services
from daemon.web import session
from daemon.web.blueprint import bp, page
from daemon.web.job_view import (
    LIVE_REGIONS,
    LiveQuery,
    frame_runs,
    job_context,
    log_task_id,
    tasks_offset,
)
from daemon.web.queue_view import queue_context, queue_page, read_query

logger = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//elsewhere`` or ``https://elsewhere``."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.queue")


@bp.get("/")
def index() -> Response:
    return redirect(url_for("web.queue"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if session.principal().kind == "user":
            return redirect(target)
        return render_template("login.html", next=target, error="", username="")
    session.check_csrf()
    username = request.form.get("username", "")
    try:
        body = LoginRequest(username=username, password=request.form.get("password", ""))
        pair = services().auth.login(body, request.remote_addr or "unknown")
    except ValidationError:
        error, status = "Enter your user name and password.", 400
    except CloudburstError as exc:
        error, status = exc.message, exc.status
    else:
        session.start(pair)
        return redirect(target, code=303)
    return render_template("login.html", next=target, error=error, username=username), status


@bp.post("/logout")
def logout() -> Response:
    session.check_csrf()
    who = session.principal()
    if who.kind == "user":
        services().auth.logout(who, session.refresh_token())
    session.end()
    return redirect(url_for("web.login"), code=303)


@bp.get("/jobs")
@page(Permission.JOBS_READ)
def queue() -> Any:
    """The queue in queue order (or the column chosen), filtered and searched by name."""
    return queue_page()


@bp.get("/jobs/rows")
@page(Permission.JOBS_READ)
def queue_rows() -> Any:
    """The rows of the queue page's table alone, polled by ``queue.js`` to show new jobs and
    their progress without reloading the page."""
    try:
        query = read_query(request.args)
    except InvalidInput as exc:
        return exc.message, exc.status, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("queue_rows.html", **queue_context(services(), query))


@bp.get("/jobs/<int:job_id>")
@page(Permission.JOBS_READ)
def job(job_id: int) -> Any:
    try:
        context = job_context(services(), job_id, tasks_offset(), log_task_id())
    except NotFound as exc:
        return render_template("error.html", title="Not found", message=exc.message), 404
    return render_template("job.html", **context, error="", task_states=list(TaskState))


@bp.get("/jobs/<int:job_id>/live")
def job_live(job_id: int) -> Any:
    """What the job page's script refreshes in place, as JSON: its parts rendered again, the
    frame grid as runs of cells alike, and the log from where the page stopped. Errors are the
    API's (401 signed out, 403, 404, 400 for a query it does not take)."""
    who = session.principal()
    if who.kind != "user":
        raise Unauthenticated("Your session ended; sign in again to follow this job.")
    if not who.may(Permission.JOBS_READ):
        raise Forbidden(
            f"Your role ({who.role}) cannot read jobs; it needs {Permission.JOBS_READ}."
        )
    query = LiveQuery.model_validate(request.args.to_dict(), strict=False)
    context = job_context(services(), job_id, query.tasks_offset, query.log, query.cursor())
    log = context["log"]
    live = {
        "state": context["job"].state.value,
        "finished": context["job"].state.finished,
        "regions": {name: render_template(f"job/{name}.html", **context) for name in LIVE_REGIONS},
        "frames": frame_runs(context["cells"]),
        "log": {"task": log.task.id if log.task else None, "attempt": log.attempt,
                "offset": log.offset, "text": log.text, "reset": log.reset},
    }  # fmt: skip
    return jsonify({"data": live, "message": "OK."})
