"""Errors of the data layer: manifests, object storage, verified transfers.

They extend the project's one hierarchy (``common.errors``) and carry its ``code``, HTTP
``status`` and ``retryable`` flag, so a daemon or an agent reports them like any other error.
"""

from __future__ import annotations

from common.errors import CloudburstError, NotFound, UserFacingError


class DataError(CloudburstError):
    """Root of the data layer's errors."""

    code = "data_error"


class BlobMissing(NotFound):
    """An object the store should hold is not there (never uploaded, or deleted since)."""

    code = "blob_missing"


class BlobCorrupt(DataError):
    """Bytes read from the store do not hash to the name they were stored under.

    The bytes are thrown away, never used; the blob must be uploaded again from studio storage.
    """

    code = "blob_corrupt"


class SourceChanged(UserFacingError):
    """A studio file changed between building the manifest and uploading it."""

    code = "source_changed"
    status = 409


class StoreAccessDenied(UserFacingError):
    """The object store refused the credentials (wrong key or secret, no permission)."""

    code = "store_access_denied"
    status = 502


class StoreUnavailable(DataError):
    """The object store did not answer, or answered with a server error; try again later."""

    code = "store_unavailable"
    status = 503
    retryable = True


class UploadGone(DataError):
    """A multipart upload the journal names no longer exists in the store (aborted, expired)."""

    code = "upload_gone"
