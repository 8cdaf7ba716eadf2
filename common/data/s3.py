"""``S3Store``: an ``ObjectStore`` on the S3 API through boto3.

It serves AWS S3, OCI Object Storage's S3 compatibility endpoint
(``https://<namespace>.compat.objectstorage.<region>.oraclecloud.com``), MinIO and SeaweedFS.
Path-style addressing is the default, as the compatible stores expect. Newer botocore adds
CRC checksums (and ``aws-chunked`` bodies) to every upload, which several compatible stores
refuse; checksums are therefore sent only when an operation requires them, and every upload
carries a ``Content-MD5`` that the store checks instead.

Requests are counted from botocore's own ``before-send`` event, so retries are counted too.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from common.data.errors import BlobMissing, StoreAccessDenied, StoreUnavailable, UploadGone
from common.data.store import ObjectInfo, PartInfo, TransferStats

logger = logging.getLogger(__name__)

#: Error codes that mean the credentials were refused.
_DENIED = {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken"}
_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}
#: Up to this many keys, ``exists_many`` asks for each (HEAD); above, it lists their folders,
#: or their common parent folder when they are spread over more than ``FOLDER_LIMIT`` folders
#: (1,000 keys per listed page).
HEAD_LIMIT = 64
FOLDER_LIMIT = 16


class S3Store:
    """Objects in one S3 bucket, under an optional key prefix. Thread-safe."""

    min_part_size = 5 * 1024 * 1024
    max_parts = 10_000

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        addressing_style: str = "path",
        max_connections: int = 32,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 60.0,
        max_attempts: int = 4,
    ) -> None:
        """Makes the client; nothing is sent yet.

        Args:
            bucket: the bucket's name.
            prefix: put before every key (``cloudburst/``), so one bucket can serve many farms.
            endpoint_url: the S3 endpoint; AWS's own when None.
            region: the signing region (``us-east-1`` when None).
            access_key_id: with ``secret_access_key``: explicit credentials; when None,
                botocore's usual chain (``AWS_*`` variables, ``~/.aws``, instance roles).
            secret_access_key: see ``access_key_id``.
            session_token: for temporary credentials.
            addressing_style: ``path`` (compatible stores) or ``virtual`` (AWS).
            max_connections: the HTTP connection pool's size (threads sharing the store).
            connect_timeout_s: seconds to wait for a connection.
            read_timeout_s: seconds to wait for data on a connection.
            max_attempts: tries per request, retries of throttling and server errors included.
        """
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        host = urlparse(endpoint_url).netloc if endpoint_url else "aws"
        self.name = f"s3://{host}/{bucket}/{prefix}"
        self.stats = TransferStats()
        config = Config(
            region_name=region or "us-east-1",
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=max_connections,
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = boto3.session.Session()
        self._client: Any = session.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            config=config,
        )
        self._client.meta.events.register("before-send.s3", self._on_send)

    # --- ObjectStore -------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        self._call("PutObject", Key=self.prefix + key, Body=data, ContentMD5=_md5(data))
        self.stats.add_sent(len(data))

    def get(self, key: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        if length == 0:
            return
        extra = {}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            extra["Range"] = f"bytes={offset}-{end}"
        answer = self._call("GetObject", Key=self.prefix + key, **extra)
        body = answer["Body"]
        try:
            for chunk in body.iter_chunks(1024 * 1024):
                self.stats.add_received(len(chunk))
                yield chunk
        except Exception as exc:
            raise _translate(exc, key, self.name) from exc
        finally:
            body.close()

    def exists_many(self, keys: Iterable[str]) -> set[str]:
        wanted = set(keys)
        if len(wanted) <= HEAD_LIMIT:
            with ThreadPoolExecutor(max_workers=16) as pool:
                found = pool.map(self._exists, sorted(wanted))
                return {key for key, there in zip(sorted(wanted), found, strict=True) if there}
        folders = sorted({key.rpartition("/")[0] + "/" for key in wanted})
        if len(folders) > FOLDER_LIMIT:  # spread over many shards: one listing of their parent
            folders = [_common_folder(folders[0], folders[-1])]
        present: set[str] = set()
        with ThreadPoolExecutor(max_workers=16) as pool:
            for keys_there in pool.map(lambda f: {o.key for o in self.list_objects(f)}, folders):
                present |= keys_there
        return wanted & present

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call("ListObjectsV2", Prefix=self.prefix + prefix, **extra)
            for item in page.get("Contents", []):
                yield ObjectInfo(item["Key"][len(self.prefix) :], int(item["Size"]))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def delete(self, keys: Iterable[str]) -> None:
        batch = [{"Key": self.prefix + key} for key in keys]
        for start in range(0, len(batch), 1000):
            objects = batch[start : start + 1000]
            self._call("DeleteObjects", Delete={"Objects": objects, "Quiet": True})

    def start_multipart(self, key: str) -> str:
        answer = self._call("CreateMultipartUpload", Key=self.prefix + key)
        return str(answer["UploadId"])

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartInfo:
        answer = self._call(
            "UploadPart",
            Key=self.prefix + key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ContentMD5=_md5(data),
        )
        self.stats.add_sent(len(data))
        return PartInfo(number, answer["ETag"], len(data))

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        parts: list[PartInfo] = []
        marker = 0
        while True:
            page = self._call(
                "ListParts", Key=self.prefix + key, UploadId=upload_id, PartNumberMarker=marker
            )
            parts += [
                PartInfo(int(p["PartNumber"]), p["ETag"], int(p["Size"]))
                for p in page.get("Parts", [])
            ]
            if not page.get("IsTruncated"):
                return parts
            marker = int(page["NextPartNumberMarker"])

    def complete_multipart(self, key: str, upload_id: str, parts: list[PartInfo]) -> None:
        listed = [{"PartNumber": p.number, "ETag": p.etag} for p in sorted(parts, key=_number)]
        self._call(
            "CompleteMultipartUpload",
            Key=self.prefix + key,
            UploadId=upload_id,
            MultipartUpload={"Parts": listed},
        )

    def abort_multipart(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(UploadGone):
            self._call("AbortMultipartUpload", Key=self.prefix + key, UploadId=upload_id)

    # --- setup -------------------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Creates the bucket when it does not exist (set-up scripts and tests)."""
        try:
            self._call("HeadBucket")
        except BlobMissing:
            self._call("CreateBucket")

    # --- helpers -----------------------------------------------------------------------------

    def _exists(self, key: str) -> bool:
        try:
            self._call("HeadObject", Key=self.prefix + key)
        except BlobMissing:
            return False
        return True

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self._client, _snake(operation))
        try:
            answer: dict[str, Any] = method(Bucket=self.bucket, **params)
        except Exception as exc:
            raise _translate(exc, params.get("Key", ""), self.name) from exc
        return answer

    def _on_send(self, event_name: str = "", **_: Any) -> None:
        self.stats.count_request(event_name.rpartition(".")[2] or "unknown")


def _translate(exc: Exception, key: str, store: str) -> Exception:
    """The data-layer error a botocore failure stands for."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in _DENIED or status == 403:
            return StoreAccessDenied(
                f"The object store {store} refused the request ({code or status}): check the "
                "access key, the secret and the bucket's permissions in the store settings."
            )
        if code == "NoSuchUpload":
            return UploadGone(f"The multipart upload of {key} no longer exists in {store}.")
        if code in _MISSING or status == 404:
            return BlobMissing(f"{key or 'The bucket'} is not in the object store {store}.")
        if status >= 500 or code in ("SlowDown", "RequestTimeout", "InternalError"):
            return StoreUnavailable(f"The object store {store} failed ({code or status}).")
        return StoreUnavailable(f"The object store {store} answered {code or status}: {exc}")
    if isinstance(exc, BotoCoreError | OSError):
        return StoreUnavailable(f"Cannot reach the object store {store}: {exc}")
    return exc


def _common_folder(first: str, last: str) -> str:
    """The deepest folder (ending in ``/``, or empty) holding both keys."""
    same = 0
    while same < min(len(first), len(last)) and first[same] == last[same]:
        same += 1
    return first[: first.rfind("/", 0, same) + 1]


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _number(part: PartInfo) -> int:
    return part.number


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
