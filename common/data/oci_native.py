"""``OciStore``: an ``ObjectStore`` on OCI Object Storage's native API through the ``oci`` SDK.

On OCI render nodes it authenticates with instance principals: the node's identity signs the
requests, so no long-lived secret sits on a render node (a dynamic group and a policy allow the
nodes to read the bucket). Elsewhere (the daemon) it reads an OCI config file and API key.

The SDK is large and only needed here: it is imported inside functions, and installed with the
``oci`` extra. The parts that shape requests (ranges, object names, listing pages, the commit
list) are plain functions, tested without the SDK.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from common.data.errors import BlobMissing, StoreAccessDenied, StoreUnavailable, UploadGone
from common.data.store import ObjectInfo, PartInfo, TransferStats
from common.oci_auth import AUTH_INSTANCE_PRINCIPAL, oci_client

logger = logging.getLogger(__name__)


def range_header(offset: int, length: int | None) -> str | None:
    """The HTTP ``Range`` value for ``length`` bytes from ``offset`` (None: the whole object)."""
    if not offset and length is None:
        return None
    end = "" if length is None else str(offset + length - 1)
    return f"bytes={offset}-{end}"


def commit_parts(parts: Iterable[PartInfo]) -> list[dict[str, Any]]:
    """The ``parts_to_commit`` of a commit request, in part-number order."""
    return [{"part_num": p.number, "etag": p.etag} for p in sorted(parts, key=lambda p: p.number)]


def content_md5(data: bytes) -> str:
    """The base64 MD5 the store checks an upload against."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def make_client(
    *,
    auth: str = AUTH_INSTANCE_PRINCIPAL,
    config_file: str | None = None,
    profile: str = "DEFAULT",
    region: str | None = None,
    endpoint: str | None = None,
) -> Any:
    """An SDK ``ObjectStorageClient``, signed as ``common.oci_auth.oci_client`` says.

    Raises:
        ConfigError: the credentials cannot be had (see ``oci_client``).
    """
    import oci

    return oci_client(
        lambda sdk: sdk.object_storage.ObjectStorageClient,
        auth=auth, config_file=config_file, profile=profile, region=region, endpoint=endpoint,
        retry_strategy=oci.retry.DEFAULT_RETRY_STRATEGY,
    )  # fmt: skip


class OciStore:
    """Objects in one OCI bucket, under an optional prefix. Thread-safe (as the SDK client)."""

    #: Object Storage's smallest part, but for the last.
    min_part_size = 10 * 1024 * 1024
    max_parts = 10_000

    def __init__(
        self, client: Any, bucket: str, *, namespace: str | None = None, prefix: str = ""
    ) -> None:
        """Wraps an ``ObjectStorageClient`` (``make_client``).

        Args:
            client: the SDK client.
            bucket: the bucket's name.
            namespace: the tenancy's Object Storage namespace; asked of the service when None.
            prefix: put before every key.
        """
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.stats = TransferStats()
        self.name = f"oci://{namespace or '?'}/{bucket}/{prefix}"  # for errors of the look-up
        self.namespace = namespace or str(self._call("GetNamespace", client.get_namespace).data)
        self.name = f"oci://{self.namespace}/{bucket}/{prefix}"

    def put(self, key: str, data: bytes) -> None:
        self._call(
            "PutObject", self._client.put_object, self.namespace, self.bucket, self.prefix + key,
            data, content_length=len(data), content_md5=content_md5(data),
        )  # fmt: skip
        self.stats.add_sent(len(data))

    def get(self, key: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        if length == 0:
            return
        extra = {"range": r} if (r := range_header(offset, length)) else {}
        answer = self._call(
            "GetObject", self._client.get_object, self.namespace, self.bucket, self.prefix + key,
            **extra,
        )  # fmt: skip
        try:
            for chunk in answer.data.raw.stream(1024 * 1024, decode_content=False):
                self.stats.add_received(len(chunk))
                yield chunk
        except Exception as exc:
            raise _translate(exc, key, self.name) from exc

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        wanted = set(keys)
        folders = sorted({key.rpartition("/")[0] + "/" for key in wanted})
        present: set[str] = set()
        for folder in folders:
            present |= {info.key for info in self.list_objects(folder)}
        return wanted & present

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        start: str | None = None
        while True:
            extra = {"start": start} if start else {}
            answer = self._call(
                "ListObjects", self._client.list_objects, self.namespace, self.bucket,
                prefix=self.prefix + prefix, fields="size", **extra,
            )  # fmt: skip
            for item in answer.data.objects:
                yield ObjectInfo(item.name[len(self.prefix) :], int(item.size or 0))
            start = answer.data.next_start_with
            if not start:
                return

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                self._call(
                    "DeleteObject", self._client.delete_object, self.namespace, self.bucket,
                    self.prefix + key,
                )  # fmt: skip
            except BlobMissing:
                continue

    def start_multipart(self, key: str) -> str:
        from oci.object_storage.models import CreateMultipartUploadDetails

        details = CreateMultipartUploadDetails(object=self.prefix + key)
        answer = self._call(
            "CreateMultipartUpload", self._client.create_multipart_upload, self.namespace,
            self.bucket, details,
        )  # fmt: skip
        return str(answer.data.upload_id)

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartInfo:
        answer = self._call(
            "UploadPart", self._client.upload_part, self.namespace, self.bucket,
            self.prefix + key, upload_id, number, data, content_length=len(data),
            content_md5=content_md5(data),
        )  # fmt: skip
        self.stats.add_sent(len(data))
        return PartInfo(number, str(answer.headers["etag"]), len(data))

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        parts: list[PartInfo] = []
        page: str | None = None
        while True:
            extra = {"page": page} if page else {}
            answer = self._call(
                "ListMultipartUploadParts", self._client.list_multipart_upload_parts,
                self.namespace, self.bucket, self.prefix + key, upload_id, **extra,
            )  # fmt: skip
            parts += [PartInfo(p.part_number, p.etag, int(p.size or 0)) for p in answer.data]
            page = answer.headers.get("opc-next-page")
            if not page:
                return parts

    def complete_multipart(self, key: str, upload_id: str, parts: list[PartInfo]) -> None:
        from oci.object_storage.models import (
            CommitMultipartUploadDetails,
            CommitMultipartUploadPartDetails,
        )

        details = CommitMultipartUploadDetails(
            parts_to_commit=[CommitMultipartUploadPartDetails(**p) for p in commit_parts(parts)]
        )
        self._call(
            "CommitMultipartUpload", self._client.commit_multipart_upload, self.namespace,
            self.bucket, self.prefix + key, upload_id, details,
        )  # fmt: skip

    def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            self._call(
                "AbortMultipartUpload", self._client.abort_multipart_upload, self.namespace,
                self.bucket, self.prefix + key, upload_id,
            )  # fmt: skip
        except (UploadGone, BlobMissing):
            return

    def _call(self, operation: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        self.stats.count_request(operation)
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            raise _translate(exc, str(args[2]) if len(args) > 2 else "", self.name) from exc


def _translate(exc: Exception, key: str, store: str) -> Exception:
    """The data-layer error an SDK failure stands for (by duck typing: no SDK import)."""
    status = getattr(exc, "status", None)
    code = str(getattr(exc, "code", "") or "")
    if isinstance(status, int):
        if status in (401, 403):
            return StoreAccessDenied(
                f"OCI Object Storage {store} refused the request ({code or status}): check the "
                "node's dynamic group and policy, or the API key in the OCI config file."
            )
        if status == 404 and "upload" in code.lower():
            return UploadGone(f"The multipart upload of {key} no longer exists in {store}.")
        if status == 404:
            return BlobMissing(f"{key or 'The bucket'} is not in the object store {store}.")
        if status >= 500 or status == 429:
            return StoreUnavailable(f"OCI Object Storage {store} failed ({code or status}).")
        return StoreUnavailable(f"OCI Object Storage {store} answered {status} {code}: {exc}")
    if type(exc).__module__.startswith(("oci", "requests", "urllib3")) or isinstance(exc, OSError):
        return StoreUnavailable(f"Cannot reach OCI Object Storage {store}: {exc}")
    return exc
