"""``/api/v1/jobs``: what people do with jobs. Views translate HTTP <-> models only."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Response, current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.errors import (
    DependencyCycle,
    EnvNotAllowed,
    Forbidden,
    FrameSpecError,
    IdempotencyKeyReused,
    IllegalStateChange,
    InvalidEnv,
    InvalidInput,
    InvalidPath,
    JobTooLarge,
    NoFrameToken,
    NotFound,
    PathNotAllowed,
    UnknownDependency,
)
from common.models import (
    IDEMPOTENCY_HEADER,
    TASK_PAGE_MAX,
    Attempt,
    DependsOnChange,
    EntityId,
    IdempotencyKey,
    Job,
    JobPage,
    JobSpec,
    Offset,
    PinChange,
    PriorityChange,
    Resubmission,
    TaskLog,
    TaskPage,
)
from common.states import JobState
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.job_filter import NAME_CONTAINS_MAX, JobFilter, JobSort
from daemon.services import JobService
from daemon.shotgun import ShotGridNotConfigured, ShotGridUnavailable, UnknownShotGridLink

bp = ApiBlueprint("jobs", __name__, tag="jobs")


class JobQuery(BaseModel):
    """Query parameters of ``GET /jobs``; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    state: list[JobState] = Field(default_factory=list)
    """Comma-separated states."""
    project: str | None = None
    owner: str | None = None
    priority_min: Annotated[int, Field(ge=0, le=100)] | None = None
    priority_max: Annotated[int, Field(ge=0, le=100)] | None = None
    name_contains: Annotated[str, Field(min_length=1, max_length=NAME_CONTAINS_MAX)] | None = None
    """Jobs whose name holds this text, in any case."""
    shot: EntityId | None = None
    """Jobs linked to this ShotGrid Shot (its id, as ``/shotgrid/shots`` lists it)."""
    asset: EntityId | None = None
    """Jobs linked to this ShotGrid Asset (its id, as ``/shotgrid/assets`` lists it)."""
    archived: bool = False
    """``true``: list the archived jobs (only them) instead of the others."""
    sort: JobSort = JobSort.SUBMITTED
    """``rank``: queue order (rank 1 first, then the jobs not in the queue, newest first)."""
    order: Literal["asc", "desc"] | None = None
    """The default: newest, highest or most done first for submitted, priority and progress;
    A to Z, and rank 1 first, for the others."""
    offset: Offset = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 50

    @field_validator("state", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return [s for s in value.split(",") if s] if isinstance(value, str) else value


class SubmitHeaders(BaseModel):
    """Headers of ``POST /jobs``."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: IdempotencyKey | None = Field(
        default=None,
        alias=IDEMPOTENCY_HEADER,
        description=(
            "A key of your own naming this submission (a UUID). Resent with the same job, it "
            "returns the first answer and stores no second job; with another job it is refused "
            "(422). Keys are per caller, kept for idempotency.keep_s (a day)."
        ),
    )


class TaskQuery(BaseModel):
    """Query parameters of ``GET /jobs/{id}/tasks``: which page of the job's tasks."""

    model_config = ConfigDict(extra="forbid")

    offset: Offset = 0
    limit: Annotated[int, Field(ge=1, le=TASK_PAGE_MAX)] = 100


class LogQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offset: Offset = 0
    attempt: Attempt | None = None


def jobs() -> JobService:
    return services().jobs


@bp.operation(
    "POST", "/jobs", "Submit a job (yours, unless a TD or admin names another owner)",
    body=JobSpec, headers=SubmitHeaders,
    returns=Job, status=201, permission=Permission.JOBS_SUBMIT,
    errors=(
        InvalidInput, FrameSpecError, JobTooLarge, InvalidPath, PathNotAllowed, InvalidEnv,
        EnvNotAllowed, UnknownShotGridLink, ShotGridNotConfigured, ShotGridUnavailable, Forbidden,
        IdempotencyKeyReused, NoFrameToken, UnknownDependency,
    ),
)  # fmt: skip
def submit(body: JobSpec, headers: SubmitHeaders) -> Job:
    return jobs().submit(body, current_principal(), headers.idempotency_key)


@bp.operation(
    "GET", "/jobs",
    "List jobs as summaries (the whole job: GET /jobs/{id}), newest first unless sort names "
    "another order; archived jobs only with archived=true",
    query=JobQuery, returns=JobPage,
    permission=Permission.JOBS_READ,
)  # fmt: skip
def list_jobs(query: JobQuery) -> Response:
    page = jobs().list_jobs(
        JobFilter(
            states=tuple(query.state),
            project=query.project,
            owner=query.owner,
            priority_min=query.priority_min,
            priority_max=query.priority_max,
            name_contains=query.name_contains,
            shot=query.shot,
            asset=query.asset,
            archived=query.archived,
            sort=query.sort,
            descending=None if query.order is None else query.order == "desc",
            offset=query.offset,
            limit=query.limit,
        )
    )
    return page_response(page)


def page_response(page: JobPage) -> Response:
    """The page in the API's envelope (``routing.envelope``), written by pydantic's encoder.

    Pages are the API's largest and most polled answers; pydantic writes one straight to JSON
    in under half the time that turning it into dicts and then ``json`` text takes.
    """
    return current_app.response_class(
        '{"data":' + page.model_dump_json() + ',"message":"OK."}', mimetype="application/json"
    )


@bp.operation(
    "GET", "/jobs/<int:job_id>", "One job, with its rank and the reason for it",
    returns=Job, permission=Permission.JOBS_READ, errors=(NotFound,),
)  # fmt: skip
def get_job(job_id: int) -> Job:
    return jobs().get(job_id)


@bp.operation(
    "DELETE", "/jobs/<int:job_id>", "Cancel a job; running tasks are killed on their agents",
    returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange),
)  # fmt: skip
def cancel_job(job_id: int) -> Job:
    return jobs().cancel(job_id)


@bp.operation(
    "POST", "/jobs/<int:job_id>/pause", "Hand out no more tasks; running ones finish",
    returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange),
)  # fmt: skip
def pause_job(job_id: int) -> Job:
    return jobs().pause(job_id)


@bp.operation(
    "POST", "/jobs/<int:job_id>/resume", "Resume a paused job",
    returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange),
)  # fmt: skip
def resume_job(job_id: int) -> Job:
    return jobs().resume(job_id)


@bp.operation(
    "POST", "/jobs/<int:job_id>/retry", "Requeue failed tasks with a fresh retry budget",
    returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange),
)  # fmt: skip
def retry_job(job_id: int) -> Job:
    return jobs().retry(job_id)


@bp.operation(
    "PUT", "/jobs/<int:job_id>/priority", "Change a job's priority (0-100)",
    body=PriorityChange, returns=Job,
    permission=Permission.JOBS_PRIORITY, owner_may=True,
    errors=(NotFound, IllegalStateChange, InvalidInput),
)  # fmt: skip
def set_priority(job_id: int, body: PriorityChange) -> Job:
    return jobs().set_priority(job_id, body.priority)


@bp.operation(
    "PUT", "/jobs/<int:job_id>/pin", "Pin a job above every unpinned one, or unpin it",
    body=PinChange, returns=Job, permission=Permission.JOBS_PIN,
    errors=(NotFound, IllegalStateChange, InvalidInput),
)  # fmt: skip
def pin_job(job_id: int, body: PinChange) -> Job:
    return jobs().pin(job_id, body, current_principal().name)


@bp.operation(
    "GET", "/jobs/<int:job_id>/tasks",
    f"A page of a job's tasks in task order (at most {TASK_PAGE_MAX}), with their total",
    query=TaskQuery, returns=TaskPage, permission=Permission.JOBS_READ, errors=(NotFound,),
)  # fmt: skip
def list_tasks(job_id: int, query: TaskQuery) -> TaskPage:
    return jobs().task_page(job_id, query.offset, query.limit)


@bp.operation(
    "GET", "/jobs/<int:job_id>/tasks/<int:task_id>/log",
    "A task's log from a character offset (latest attempt unless one is named)",
    query=LogQuery, returns=TaskLog, permission=Permission.JOBS_READ, errors=(NotFound,),
)  # fmt: skip
def task_log(job_id: int, task_id: int, query: LogQuery) -> TaskLog:
    return jobs().log(job_id, task_id, query.offset, query.attempt)


@bp.operation(
    "PUT", "/jobs/<int:job_id>/depends-on",
    "Replace the jobs an unfinished job waits for (ids, or {job, frames: same})",
    body=DependsOnChange, returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange, InvalidInput, UnknownDependency, DependencyCycle),
)  # fmt: skip
def set_dependencies(job_id: int, body: DependsOnChange) -> Job:
    return jobs().set_dependencies(job_id, body)


@bp.operation(
    "POST", "/jobs/<int:job_id>/resubmit",
    "Submit a job again as your own: the same spec, optionally other frames or another name",
    body=Resubmission, returns=Job, status=201, permission=Permission.JOBS_SUBMIT,
    errors=(
        NotFound, InvalidInput, FrameSpecError, JobTooLarge, InvalidPath, PathNotAllowed,
        InvalidEnv, EnvNotAllowed, UnknownShotGridLink, ShotGridNotConfigured,
        ShotGridUnavailable, NoFrameToken, UnknownDependency,
    ),
)  # fmt: skip
def resubmit_job(job_id: int, body: Resubmission) -> Job:
    return services().job_records.resubmit(job_id, body, current_principal())


@bp.operation(
    "POST", "/jobs/<int:job_id>/archive",
    "Archive a finished job: hidden from GET /jobs unless archived=true",
    returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange),
)  # fmt: skip
def archive_job(job_id: int) -> Job:
    return services().job_records.archive(job_id)


@bp.operation(
    "POST", "/jobs/<int:job_id>/unarchive", "Put an archived job back in the listing",
    returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange),
)  # fmt: skip
def unarchive_job(job_id: int) -> Job:
    return services().job_records.archive(job_id, archived=False)


@bp.operation(
    "DELETE", "/jobs/<int:job_id>/record",
    "Delete a finished job with its tasks and logs (frames on disk stay); answers the job",
    returns=Job, permission=Permission.JOBS_MANAGE, owner_may=True,
    errors=(NotFound, IllegalStateChange),
)  # fmt: skip
def delete_job(job_id: int) -> Job:
    return services().job_records.delete(job_id)
