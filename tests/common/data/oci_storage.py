"""The in-memory side of the OCI Object Storage stand-in (``oci_endpoint``): objects and
multipart uploads of one namespace, and what each operation answers.

The operations take a parsed, authenticated ``Request`` and return an ``Answer`` or raise a
``Refusal`` (an OCI error: status, ``code``, message); ``oci_endpoint`` does the HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
_CREATE_FIELDS = {
    "object",
    "contentType",
    "contentLanguage",
    "contentEncoding",
    "contentDisposition",
    "cacheControl",
    "storageTier",
    "metadata",
}


class Refusal(Exception):
    """An answer with an OCI error body: ``{"code": ..., "message": ...}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass
class StoredObject:
    """An object's bytes and the checksums the service keeps with them."""

    data: bytes
    etag: str = field(default_factory=lambda: str(uuid.uuid4()))
    md5: str = ""
    """``content-md5`` (single PUT) or ``opc-multipart-md5`` (``<base64>-<parts>``)."""
    modified: str = field(default_factory=lambda: formatdate(usegmt=True))


@dataclass
class Upload:
    """A multipart upload in progress: its object and the parts received, by number."""

    bucket: str
    name: str
    parts: dict[int, StoredObject] = field(default_factory=dict)


@dataclass
class Request:
    """What a handler needs of one request."""

    method: str
    target: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    bucket: str = ""
    name: str = ""


@dataclass
class Answer:
    """A handler's answer."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of_json(cls, value: object, **headers: str) -> Answer:
        """A 200 answer with a JSON body."""
        return cls(200, {"content-type": "application/json", **headers}, json.dumps(value).encode())


def md5_b64(data: bytes) -> str:
    """The base64 MD5 of ``data``, as ``content-md5`` carries it."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class ObjectStorage:
    """Object Storage's buckets of one namespace, in memory. Thread-safe.

    Args:
        namespace: the tenancy's namespace (what ``GET /n`` answers).
        buckets: the buckets that exist.
        page_size: most objects per listing page and parts per parts page (the service: 1000).
        min_part_size: the smallest part a commit accepts, but for the last.
    """

    def __init__(
        self,
        namespace: str,
        buckets: Iterable[str],
        *,
        page_size: int = 1000,
        min_part_size: int = 10 * 1024 * 1024,
    ) -> None:
        self.namespace = namespace
        self.buckets = set(buckets)
        self.page_size = page_size
        self.min_part_size = min_part_size
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.uploads: dict[str, Upload] = {}
        self.garbled_reads: set[tuple[str, str]] = set()
        self._lock = threading.RLock()

    def tamper(self, bucket: str, name: str, data: bytes) -> None:
        """Replaces an object's bytes behind the service's back: ETag and MD5 stay as they were."""
        with self._lock:
            self.objects[bucket, name].data = data

    def garble_next_read(self, bucket: str, name: str) -> None:
        """Flips one byte of the next GET of an object (a bad read; the stored copy is good)."""
        with self._lock:
            self.garbled_reads.add((bucket, name))

    def handle(self, operation: str, request: Request) -> Answer:
        """Does ``operation`` (``PutObject``, ``CommitMultipartUpload``...) for a request.

        Raises:
            Refusal: the request cannot be done (no such object or upload, a bad body...).
        """
        with self._lock:
            answer: Answer = getattr(self, "_" + operation)(request)
            return answer

    # --- operations (called with the lock held) --------------------------------------------

    def _GetNamespace(self, request: Request) -> Answer:  # noqa: N802
        return Answer.of_json(self.namespace)

    def _PutObject(self, request: Request) -> Answer:  # noqa: N802
        _check_upload_body(request)
        stored = StoredObject(request.body, md5=md5_b64(request.body))
        self.objects[request.bucket, request.name] = stored
        return Answer(
            headers={
                "etag": stored.etag,
                "opc-content-md5": stored.md5,
                "last-modified": stored.modified,
            }
        )

    def _GetObject(self, request: Request) -> Answer:  # noqa: N802
        stored = self._object(request)
        data, status, extra = stored.data, 200, {}
        if (wanted := request.headers.get("range")) is not None:
            match = _RANGE.match(wanted)
            if match is None or int(match.group(1)) >= len(data):
                raise Refusal(416, "InvalidRange", f"Range {wanted!r} is not satisfiable.")
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else len(data) - 1, len(data) - 1)
            extra = {"content-range": f"bytes {start}-{end}/{len(data)}"}
            data, status = data[start : end + 1], 206
        if (request.bucket, request.name) in self.garbled_reads and data:
            self.garbled_reads.discard((request.bucket, request.name))
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        headers = {**_object_headers(stored), **extra, "content-length": str(len(data))}
        return Answer(status, headers, data)

    def _HeadObject(self, request: Request) -> Answer:  # noqa: N802
        stored = self._object(request)
        return Answer(headers={**_object_headers(stored), "content-length": str(len(stored.data))})

    def _DeleteObject(self, request: Request) -> Answer:  # noqa: N802
        self._object(request)
        del self.objects[request.bucket, request.name]
        return Answer(204, {"last-modified": formatdate(usegmt=True)})

    def _ListObjects(self, request: Request) -> Answer:  # noqa: N802
        prefix, start = request.query.get("prefix", ""), request.query.get("start", "")
        limit = min(int(request.query.get("limit", "1000")), 1000, self.page_size)
        fields = set(request.query.get("fields", "name").split(","))
        if not fields <= {"name", "size", "etag", "md5", "timeCreated"}:
            raise Refusal(400, "InvalidParameter", f"Unknown fields {request.query['fields']}.")
        names = sorted(n for b, n in self.objects if b == request.bucket and n.startswith(prefix))
        names = [name for name in names if name >= start]
        listed = []
        for name in names[:limit]:
            stored = self.objects[request.bucket, name]
            item: dict[str, object] = {"name": name}
            if "size" in fields:
                item["size"] = len(stored.data)
            if "etag" in fields:
                item["etag"] = stored.etag
            if "md5" in fields:
                item["md5"] = stored.md5
            listed.append(item)
        following = names[limit] if len(names) > limit else None
        return Answer.of_json({"objects": listed, "prefixes": [], "nextStartWith": following})

    def _CreateMultipartUpload(self, request: Request) -> Answer:  # noqa: N802
        details = _json_body(request, dict)
        if not isinstance(details.get("object"), str) or not details["object"]:
            raise Refusal(400, "InvalidParameter", "The body must name the object.")
        if unknown := set(details) - _CREATE_FIELDS:
            raise Refusal(400, "InvalidParameter", f"Unknown fields {sorted(unknown)}.")
        upload_id = str(uuid.uuid4())
        self.uploads[upload_id] = Upload(request.bucket, details["object"])
        return Answer.of_json(
            {
                "namespace": self.namespace,
                "bucket": request.bucket,
                "object": details["object"],
                "uploadId": upload_id,
                "timeCreated": "2026-01-01T00:00:00.000Z",
                "storageTier": "Standard",
            }
        )

    def _UploadPart(self, request: Request) -> Answer:  # noqa: N802
        upload = self._upload(request)
        number = request.query["uploadPartNum"]
        if not number.isdigit() or not 1 <= int(number) <= 10_000:
            raise Refusal(400, "InvalidParameter", f"uploadPartNum {number} is not 1 to 10000.")
        _check_upload_body(request)
        part = StoredObject(request.body, md5=md5_b64(request.body))
        upload.parts[int(number)] = part
        return Answer(headers={"etag": part.etag, "opc-content-md5": part.md5})

    def _ListMultipartUploadParts(self, request: Request) -> Answer:  # noqa: N802
        upload = self._upload(request)
        limit = min(int(request.query.get("limit", "1000")), 1000, self.page_size)
        first = int(request.query.get("page", "0"))
        numbers = sorted(n for n in upload.parts if n > first)
        page = [
            {
                "partNumber": n,
                "etag": upload.parts[n].etag,
                "md5": upload.parts[n].md5,
                "size": len(upload.parts[n].data),
            }
            for n in numbers[:limit]
        ]
        more = {"opc-next-page": str(numbers[limit - 1])} if len(numbers) > limit else {}
        return Answer.of_json(page, **more)

    def _CommitMultipartUpload(self, request: Request) -> Answer:  # noqa: N802
        upload = self._upload(request)
        details = _json_body(request, dict)
        if unknown := set(details) - {"partsToCommit", "partsToExclude"}:
            raise Refusal(400, "InvalidParameter", f"Unknown fields {sorted(unknown)}.")
        listed = details.get("partsToCommit")
        if not isinstance(listed, list) or not listed:
            raise Refusal(400, "InvalidParameter", "partsToCommit must list the parts.")
        chosen: dict[int, StoredObject] = {}
        for item in listed:
            if not isinstance(item, dict) or set(item) != {"partNum", "etag"}:
                raise Refusal(400, "InvalidParameter", f"Bad part {item!r}: partNum and etag.")
            part = upload.parts.get(item["partNum"])
            if part is None or part.etag != item["etag"] or item["partNum"] in chosen:
                raise Refusal(
                    400,
                    "InvalidUploadPart",
                    f"No part {item['partNum']} with ETag "
                    f"{item['etag']} in upload {request.query['uploadId']}.",
                )
            chosen[item["partNum"]] = part
        numbers = sorted(chosen)
        if any(len(chosen[n].data) < self.min_part_size for n in numbers[:-1]):
            raise Refusal(400, "InvalidUploadPart", "A part but the last is too small.")
        data = b"".join(chosen[n].data for n in numbers)
        joined = b"".join(
            hashlib.md5(chosen[n].data, usedforsecurity=False).digest() for n in numbers
        )
        stored = StoredObject(data, md5=f"{md5_b64(joined)}-{len(numbers)}")
        self.objects[upload.bucket, upload.name] = stored
        del self.uploads[request.query["uploadId"]]
        return Answer(
            headers={
                "etag": stored.etag,
                "opc-multipart-md5": stored.md5,
                "last-modified": stored.modified,
            }
        )

    def _AbortMultipartUpload(self, request: Request) -> Answer:  # noqa: N802
        self._upload(request)
        del self.uploads[request.query["uploadId"]]
        return Answer(204)

    # --- helpers ---------------------------------------------------------------------------

    def _object(self, request: Request) -> StoredObject:
        stored = self.objects.get((request.bucket, request.name))
        if stored is None:
            raise Refusal(
                404,
                "ObjectNotFound",
                f"The object '{request.name}' was not found in the bucket '{request.bucket}'.",
            )
        return stored

    def _upload(self, request: Request) -> Upload:
        upload = self.uploads.get(request.query["uploadId"])
        if upload is None or (upload.bucket, upload.name) != (request.bucket, request.name):
            raise Refusal(
                404, "NoSuchUpload", f"No upload {request.query['uploadId']} of {request.name}."
            )
        return upload


def _check_upload_body(request: Request) -> None:
    """A PUT of bytes: ``content-length`` as sent; ``content-md5``, when given, the body's."""
    if request.headers.get("content-length") != str(len(request.body)):
        raise Refusal(400, "MissingContentLength", "An upload needs its Content-Length.")
    md5 = request.headers.get("content-md5")
    if md5 is not None and md5 != md5_b64(request.body):
        raise Refusal(400, "UnmatchedContentMd5", "The body does not match its Content-MD5.")


def _json_body(request: Request, kind: type) -> Any:
    if request.headers.get("content-type") != "application/json":
        raise Refusal(400, "InvalidParameter", "The body must be application/json.")
    try:
        value = json.loads(request.body)
    except ValueError:
        raise Refusal(400, "InvalidParameter", "The body is not JSON.") from None
    if not isinstance(value, kind):
        raise Refusal(400, "InvalidParameter", f"The body must be a JSON {kind.__name__}.")
    return value


def _object_headers(stored: StoredObject) -> dict[str, str]:
    checksum = "opc-multipart-md5" if "-" in stored.md5 else "content-md5"
    return {
        "etag": stored.etag,
        checksum: stored.md5,
        "last-modified": stored.modified,
        "accept-ranges": "bytes",
        "content-type": "application/octet-stream",
    }
