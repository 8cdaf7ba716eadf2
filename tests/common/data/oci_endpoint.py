"""A local stand-in for OCI Object Storage's native API, for the real ``oci`` SDK to talk to.

``OciEndpoint`` is a WSGI app, served by waitress on 127.0.0.1 (``serve``). Like the service it
refuses any request whose signature does not verify against a trusted API key (401
``NotAuthenticated``), checks each request's shape (method, path, query parameters, headers,
JSON bodies) and answers 400 with a ``code`` when it is wrong, and keeps objects and multipart
uploads in memory (``oci_storage``): ETags, ``opc-request-id`` on every answer, 404 JSON errors
(``ObjectNotFound``, ``BucketNotFound``, ``NoSuchUpload``), ranged reads (206), listing pages.

Routes (object names are URL-encoded in the path)::

    GET    /n                                         GetNamespace
    GET    /n/{ns}/b/{bucket}/o                       ListObjects
    PUT    /n/{ns}/b/{bucket}/o/{object}              PutObject
    GET    /n/{ns}/b/{bucket}/o/{object}              GetObject (Range)
    HEAD   /n/{ns}/b/{bucket}/o/{object}              HeadObject
    DELETE /n/{ns}/b/{bucket}/o/{object}              DeleteObject
    POST   /n/{ns}/b/{bucket}/u                       CreateMultipartUpload
    PUT    /n/{ns}/b/{bucket}/u/{object}?uploadId=&uploadPartNum=   UploadPart
    GET    /n/{ns}/b/{bucket}/u/{object}?uploadId=    ListMultipartUploadParts
    POST   /n/{ns}/b/{bucket}/u/{object}?uploadId=    CommitMultipartUpload
    DELETE /n/{ns}/b/{bucket}/u/{object}?uploadId=    AbortMultipartUpload

Every request the app accepted is in ``seen``; every one it refused is in ``refused``, with why.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives.asymmetric import rsa

from tests import serving
from tests.common.data.oci_signature import ApiKey, SignatureRefused, verify
from tests.common.data.oci_storage import Answer, ObjectStorage, Refusal, Request

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_STATUS = {
    200: "200 OK",
    204: "204 No Content",
    206: "206 Partial Content",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    416: "416 Range Not Satisfiable",
}


@dataclass(frozen=True)
class Seen:
    """One request the endpoint accepted."""

    operation: str
    method: str
    target: str
    headers: dict[str, str]
    key_id: str


class OciEndpoint(ObjectStorage):
    """Object Storage's native API over ``ObjectStorage``: authentication, routing, shapes.

    A WSGI app; thread-safe (waitress serves it from several threads). Takes the arguments of
    ``ObjectStorage``.
    """

    def __init__(self, namespace: str, buckets: Iterable[str], **options: int) -> None:
        super().__init__(namespace, buckets, **options)
        self.url = ""
        """Where ``serve`` serves it."""
        self.keys: dict[str, rsa.RSAPublicKey] = {}
        self.seen: list[Seen] = []
        self.refused: list[str] = []

    # --- what tests use --------------------------------------------------------------------

    def trust(self, key: ApiKey) -> None:
        """Accepts requests signed with ``key`` (its public half, under its ``keyId``)."""
        self.keys[key.key_id] = key.public_key

    def count(self, operation: str) -> int:
        """How many requests of ``operation`` the endpoint accepted."""
        with self._lock:
            return sum(1 for seen in self.seen if seen.operation == operation)

    # --- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        request_id = uuid.uuid4().hex
        try:
            answer = self._answer(environ)
        except Refusal as refusal:
            with self._lock:
                self.refused.append(
                    f"{environ['REQUEST_METHOD']} {environ['REQUEST_URI']}: "
                    f"{refusal.status} {refusal.code}: {refusal.message}"
                )
            body = {"code": refusal.code, "message": refusal.message}
            answer = Answer(refusal.status, {"content-type": "application/json"})
            answer.body = b"" if environ["REQUEST_METHOD"] == "HEAD" else json.dumps(body).encode()
        headers = {**answer.headers, "opc-request-id": request_id}
        if "content-length" not in headers:
            headers["content-length"] = str(len(answer.body))
        start_response(_STATUS[answer.status], list(headers.items()))
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [answer.body]

    def _answer(self, environ: dict[str, Any]) -> Answer:
        method = environ["REQUEST_METHOD"]
        target = environ["REQUEST_URI"]
        headers = request_headers(environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path, _, raw_query = target.partition("?")
        # Every POST signs its (JSON) body; the PUTs here are object and part uploads, whose
        # bodies go unsigned. Authentication comes first, as at the service.
        try:
            key_id = verify(
                method,
                target,
                headers,
                body,
                self.keys,
                body_signed=method == "POST",
                now=time.time(),
            )
        except SignatureRefused as refused:
            raise Refusal(
                401,
                "NotAuthenticated",
                "The required information to complete "
                f"authentication was not provided or was incorrect ({refused}).",
            ) from None
        request = Request(method, target, headers, _query(raw_query), body)
        operation = self._route(method, path, request)
        with self._lock:
            self.seen.append(Seen(operation, method, target, headers, key_id))
        return self.handle(operation, request)

    def _route(self, method: str, path: str, request: Request) -> str:
        """The operation a request asks for; fills in its bucket and object name."""
        parts = path.split("/")
        if parts in (["", "n"], ["", "n", ""]) and method == "GET":
            return _check_query("GetNamespace", request)
        if len(parts) < 6 or parts[1] != "n" or parts[3] != "b" or parts[5] not in ("o", "u"):
            raise Refusal(404, "NotFound", f"No Object Storage API at {path}.")
        if unquote(parts[2]) != self.namespace:
            raise Refusal(404, "NamespaceNotFound", f"Namespace {parts[2]} does not exist.")
        request.bucket = unquote(parts[4])
        request.name = unquote("/".join(parts[6:]))
        if request.bucket not in self.buckets:
            raise Refusal(404, "BucketNotFound", f"Bucket {request.bucket} does not exist.")
        has_name = len(parts) > 6 and request.name != ""
        routes = {
            ("o", False, "GET"): "ListObjects",
            ("o", True, "PUT"): "PutObject",
            ("o", True, "GET"): "GetObject",
            ("o", True, "HEAD"): "HeadObject",
            ("o", True, "DELETE"): "DeleteObject",
            ("u", False, "POST"): "CreateMultipartUpload",
            ("u", True, "PUT"): "UploadPart",
            ("u", True, "GET"): "ListMultipartUploadParts",
            ("u", True, "POST"): "CommitMultipartUpload",
            ("u", True, "DELETE"): "AbortMultipartUpload",
        }
        operation = routes.get((parts[5], has_name, method))
        if operation is None:
            raise Refusal(405, "MethodNotAllowed", f"{method} is not allowed on {path}.")
        return _check_query(operation, request)


#: Per operation: the query parameters it may take, and those it needs.
_PARAMS: dict[str, tuple[set[str], set[str]]] = {
    "GetNamespace": ({"compartmentId"}, set()),
    "ListObjects": ({"prefix", "start", "end", "limit", "fields", "startAfter"}, set()),
    "PutObject": (set(), set()),
    "GetObject": (set(), set()),
    "HeadObject": (set(), set()),
    "DeleteObject": (set(), set()),
    "CreateMultipartUpload": (set(), set()),
    "UploadPart": (set(), {"uploadId", "uploadPartNum"}),
    "ListMultipartUploadParts": ({"limit", "page"}, {"uploadId"}),
    "CommitMultipartUpload": (set(), {"uploadId"}),
    "AbortMultipartUpload": (set(), {"uploadId"}),
}


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """A WSGI request's headers, named as HTTP writes them in lower case."""
    headers = {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.lower().replace("_", "-")] = str(environ[key])
    return headers


def _query(raw: str) -> dict[str, str]:
    parsed = parse_qs(raw, keep_blank_values=True)
    if any(len(values) > 1 for values in parsed.values()):
        raise Refusal(400, "InvalidParameter", f"Repeated query parameters in {raw!r}.")
    return {name: values[0] for name, values in parsed.items()}


def _check_query(operation: str, request: Request) -> str:
    """``operation``, when the request's query parameters are those it takes and needs."""
    allowed, needed = _PARAMS[operation]
    unknown = set(request.query) - allowed - needed
    if unknown or not needed <= set(request.query):
        raise Refusal(
            400,
            "InvalidParameter",
            f"{operation} takes the query parameters "
            f"{sorted(allowed | needed)}, needs {sorted(needed)}; got "
            f"{sorted(request.query)}.",
        )
    return operation


@contextlib.contextmanager
def serve(app: Any, threads: int = 8) -> Iterator[str]:
    """Serves a stand-in ``app`` (a WSGI app with a ``url`` attribute) on a free 127.0.0.1
    port in a thread; sets and yields its ``url``."""
    with serving.serve(app, threads=threads) as url:
        app.url = url
        yield url
