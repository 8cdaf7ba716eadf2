"""``/api/v1/jobs/{id}/outputs.zip`` and thumbnails: a job's rendered frames over HTTP."""

from __future__ import annotations

from flask import Response, send_file
from pydantic import BaseModel, ConfigDict

from common.errors import NotFound
from common.models import FrameNumber
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services.outputs import OutputService

bp = ApiBlueprint("outputs", __name__, tag="jobs")


def outputs() -> OutputService:
    return services().outputs


@bp.operation(
    "GET", "/jobs/<int:job_id>/outputs.zip",
    "Every rendered frame of the job as one zip (application/zip, streamed)",
    permission=Permission.JOBS_READ, errors=(NotFound,),
)  # fmt: skip
def outputs_zip(job_id: int) -> Response:
    stream = outputs().zip_stream(job_id)
    response = Response(stream, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="job-{job_id}-frames.zip"'
    return response


class ThumbnailQuery(BaseModel):
    """Query parameters of the thumbnail; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    frame: FrameNumber | None = None
    """The frame; without it, the job's first rendered frame."""


@bp.operation(
    "GET", "/jobs/<int:job_id>/thumbnail",
    "A small JPEG of a rendered frame (image/jpeg, cached on the daemon); "
    "?frame=N, else the first rendered frame",
    query=ThumbnailQuery, permission=Permission.JOBS_READ, errors=(NotFound,),
)  # fmt: skip
def frame_thumbnail(job_id: int, query: ThumbnailQuery) -> Response:
    path = outputs().thumbnail(job_id, query.frame)
    return send_file(path, mimetype="image/jpeg", max_age=3600)
