"""``/api/v1/storage``: resumable uploads, ranged downloads, soft delete and restore."""

from __future__ import annotations

from typing import Annotated

from flask import Response, request, send_file
from pydantic import BaseModel, ConfigDict, Field

from common.errors import Conflict, Forbidden, InvalidInput, NotFound, QuotaExceeded, TooLarge
from common.models import Offset, StorageUsage, StoredFile, UploadComplete, UploadCreate, UploadInfo
from daemon.api.body import BodySize, read_body
from daemon.api.guard import current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services.files import ChecksumMismatch, FileService
from daemon.services.storage_paths import UnsafePath

bp = ApiBlueprint("storage", __name__, tag="storage")


class PartQuery(BaseModel):
    """Where a part starts in the file."""

    model_config = ConfigDict(extra="forbid")

    offset: Offset = 0


class UsageQuery(BaseModel):
    """Whose storage use: a user (the caller when omitted) and optionally a show."""

    model_config = ConfigDict(extra="forbid")

    owner: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    show: Annotated[str, Field(min_length=1, max_length=255)] | None = None


def files() -> FileService:
    return services().files


@bp.operation(
    "POST", "/storage/upload",
    "Start a resumable upload to a path under the storage root; send parts, then complete it",
    body=UploadCreate, returns=UploadInfo, status=201,
    errors=(InvalidInput, UnsafePath, TooLarge, QuotaExceeded, Conflict),
    permission=Permission.SIGNED_IN,
)  # fmt: skip
def create_upload(body: UploadCreate) -> UploadInfo:
    return files().create_upload(body, current_principal())


@bp.operation(
    "GET", "/storage/upload/<upload_id>",
    "An unfinished upload; `received` is the offset to resume from after a cut",
    returns=UploadInfo, errors=(NotFound, Forbidden), permission=Permission.SIGNED_IN,
)  # fmt: skip
def upload_status(upload_id: str) -> UploadInfo:
    return files().upload_info(upload_id, current_principal())


@bp.operation(
    "PUT", "/storage/upload/<upload_id>",
    "Send one part: the raw bytes as the body, `?offset=N` where they start",
    query=PartQuery, returns=UploadInfo, body_size=BodySize.PART,
    errors=(InvalidInput, TooLarge, QuotaExceeded, NotFound, Forbidden, Conflict),
    permission=Permission.SIGNED_IN,
)  # fmt: skip
def upload_part(upload_id: str, query: PartQuery) -> UploadInfo:
    data = read_body(BodySize.PART)  # held to storage.max_part_bytes before it is read
    if request.content_length is not None and len(data) != request.content_length:
        raise InvalidInput(
            f"The part was cut off: {len(data)} of {request.content_length} bytes arrived. "
            "Ask for the upload's `received` and send the rest from there."
        )
    return files().write_part(upload_id, query.offset, data, current_principal())


@bp.operation(
    "POST", "/storage/upload/<upload_id>/complete",
    "Check the whole file's checksum and store it at its path",
    body=UploadComplete, returns=StoredFile, status=201,
    errors=(ChecksumMismatch, NotFound, Forbidden, Conflict), permission=Permission.SIGNED_IN,
)  # fmt: skip
def complete_upload(upload_id: str, body: UploadComplete) -> StoredFile:
    return files().complete(upload_id, body, current_principal())


@bp.operation(
    "GET", "/storage/usage",
    "Storage used against the quotas: yours (or a user's, for TDs and admins) and a show's",
    query=UsageQuery, returns=StorageUsage, errors=(Forbidden,), permission=Permission.SIGNED_IN,
)  # fmt: skip
def usage(query: UsageQuery) -> StorageUsage:
    return files().usage(query.owner, query.show, current_principal())


@bp.operation(
    "GET", "/storage/download/<file_id>",
    "Download a file (its owner, TDs and admins); HTTP Range requests get 206",
    errors=(NotFound, Forbidden, UnsafePath), permission=Permission.SIGNED_IN,
    extra_statuses={206: "Partial content (a Range request)", 416: "Range not satisfiable"},
)  # fmt: skip
def download(file_id: str) -> Response:
    stored, path = files().download(file_id, current_principal())
    response = send_file(
        path, as_attachment=True, download_name=path.name, conditional=True,
        etag=stored.checksum, max_age=0,
    )  # fmt: skip
    response.headers["X-Checksum"] = f"{stored.algorithm}={stored.checksum}"
    return response


@bp.operation(
    "DELETE", "/storage/<file_id>",
    "Delete a file (its owner or an admin); restorable until `purge_at`",
    returns=StoredFile, errors=(NotFound, Forbidden, Conflict, UnsafePath),
    permission=Permission.SIGNED_IN,
)  # fmt: skip
def delete(file_id: str) -> StoredFile:
    return files().delete(file_id, current_principal())


@bp.operation(
    "POST", "/storage/<file_id>/restore", "Restore a deleted file before it is purged",
    returns=StoredFile, errors=(NotFound, Forbidden, Conflict, UnsafePath),
    permission=Permission.SIGNED_IN,
)  # fmt: skip
def restore(file_id: str) -> StoredFile:
    return files().restore(file_id, current_principal())
