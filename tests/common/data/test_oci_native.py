"""``OciStore``: how it shapes requests, without the SDK; the SDK's models where installed.

The client below is a plain recording stand-in for ``ObjectStorageClient`` (the SDK call
signatures, positional and keyword). The real SDK against a local endpoint that checks its
request signatures is in ``test_oci_native_sdk.py``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

import pytest

from common.data.errors import BlobMissing, StoreAccessDenied, StoreUnavailable, UploadGone
from common.data.oci_native import (
    OciStore,
    _translate,
    commit_parts,
    content_md5,
    range_header,
)
from common.data.store import ObjectStore, PartInfo

HAS_OCI = importlib.util.find_spec("oci") is not None


@dataclass
class Answer:
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Summary:
    name: str = ""
    size: int = 0
    part_number: int = 0
    etag: str = ""


@dataclass
class Listing:
    objects: list[Summary]
    next_start_with: str | None


class Stream:
    def __init__(self, data: bytes) -> None:
        self.raw = self
        self._data = data

    def stream(self, size: int, decode_content: bool) -> list[bytes]:
        assert decode_content is False
        return [self._data[i : i + size] for i in range(0, len(self._data), size)]


class ServiceError(Exception):
    """Shaped as ``oci.exceptions.ServiceError`` (status, code)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code = status, code


class RecordingClient:
    """Answers like ``ObjectStorageClient`` from a dict of objects, and records each call."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def get_namespace(self) -> Answer:
        self.calls.append(("get_namespace", (), {}))
        return Answer("tenancyns")

    def put_object(self, ns: str, bucket: str, name: str, body: bytes, **kw: Any) -> Answer:
        self.calls.append(("put_object", (ns, bucket, name), kw))
        self.objects[name] = body
        return Answer()

    def get_object(self, ns: str, bucket: str, name: str, **kw: Any) -> Answer:
        self.calls.append(("get_object", (ns, bucket, name), kw))
        if name not in self.objects:
            raise ServiceError(404, "ObjectNotFound")
        data = self.objects[name]
        if "range" in kw:
            start, _, end = kw["range"].removeprefix("bytes=").partition("-")
            data = data[int(start) : int(end) + 1 if end else None]
        return Answer(Stream(data))

    def list_objects(self, ns: str, bucket: str, **kw: Any) -> Answer:
        self.calls.append(("list_objects", (ns, bucket), kw))
        names = sorted(n for n in self.objects if n.startswith(kw["prefix"]))
        names = [n for n in names if n >= kw.get("start", "")]
        page, rest = names[:2], names[2:]  # tiny pages, to exercise paging
        summaries = [Summary(n, len(self.objects[n])) for n in page]
        return Answer(Listing(summaries, rest[0] if rest else None))

    def delete_object(self, ns: str, bucket: str, name: str, **kw: Any) -> Answer:
        self.calls.append(("delete_object", (ns, bucket, name), kw))
        if self.objects.pop(name, None) is None:
            raise ServiceError(404, "ObjectNotFound")
        return Answer()

    def upload_part(self, *args: Any, **kw: Any) -> Answer:
        self.calls.append(("upload_part", args[:5], kw))
        return Answer(headers={"etag": f"etag-{args[4]}"})

    def list_multipart_upload_parts(self, *args: Any, **kw: Any) -> Answer:
        self.calls.append(("list_multipart_upload_parts", args, kw))
        if kw.get("page") == "2":
            return Answer([Summary(part_number=3, etag="e3", size=1)])
        return Answer([Summary(part_number=1, etag="e1", size=9)], {"opc-next-page": "2"})


@pytest.fixture
def client() -> RecordingClient:
    return RecordingClient()


def test_request_shapes(client: RecordingClient) -> None:
    store = OciStore(client, "renders", prefix="farm/")
    assert isinstance(store, ObjectStore)
    assert (store.namespace, store.name) == ("tenancyns", "oci://tenancyns/renders/farm/")
    store.put("blobs/ab/cd", b"hello")
    name, args, kwargs = client.calls[-1]
    assert (name, args) == ("put_object", ("tenancyns", "renders", "farm/blobs/ab/cd"))
    assert kwargs == {"content_length": 5, "content_md5": "XUFAKrxLKna5cZ2REBfFkg=="}
    assert b"".join(store.get("blobs/ab/cd", 1, 3)) == b"ell"
    assert client.calls[-1][2] == {"range": "bytes=1-3"}
    assert b"".join(store.get("blobs/ab/cd")) == b"hello"
    assert client.calls[-1][2] == {}
    part = store.put_part("big", "up1", 4, b"abc")
    assert part == PartInfo(4, "etag-4", 3)
    assert client.calls[-1][1] == ("tenancyns", "renders", "farm/big", "up1", 4)
    parts = store.list_parts("big", "up1")
    assert [p.number for p in parts] == [1, 3]
    assert store.stats.requests["ListMultipartUploadParts"] == 2


def test_listing_pages_and_existence(client: RecordingClient) -> None:
    store = OciStore(client, "renders", namespace="ns", prefix="p/")
    for key in ("blobs/aa/1", "blobs/aa/2", "blobs/bb/3", "packs/x", "other"):
        store.put(key, key.encode())
    listed = [o.key for o in store.list_objects("blobs/")]
    assert listed == ["blobs/aa/1", "blobs/aa/2", "blobs/bb/3"]
    assert [c[2].get("start") for c in client.calls if c[0] == "list_objects"] == [
        None,
        "p/blobs/bb/3",
    ]
    assert store.exists_many(["blobs/aa/2", "blobs/aa/9", "blobs/bb/3"]) == {
        "blobs/aa/2",
        "blobs/bb/3",
    }
    store.delete(["blobs/aa/1", "blobs/aa/1"])  # gone already: not an error
    assert "p/blobs/aa/1" not in client.objects


def test_pure_request_builders() -> None:
    assert range_header(0, None) is None
    assert range_header(10, None) == "bytes=10-"
    assert range_header(0, 5) == "bytes=0-4"
    parts = [PartInfo(2, "b"), PartInfo(1, "a"), PartInfo(10, "c")]
    assert commit_parts(parts) == [
        {"part_num": 1, "etag": "a"},
        {"part_num": 2, "etag": "b"},
        {"part_num": 10, "etag": "c"},
    ]
    assert content_md5(b"") == "1B2M2Y8AsgTpgAmY7PhCfg=="


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (401, "NotAuthenticated", StoreAccessDenied),
        (403, "NotAuthorizedOrNotFound", StoreAccessDenied),
        (404, "ObjectNotFound", BlobMissing),
        (404, "NoSuchUpload", UploadGone),
        (429, "TooManyRequests", StoreUnavailable),
        (503, "ServiceUnavailable", StoreUnavailable),
    ],
)
def test_service_errors_are_translated(status: int, code: str, error: type[Exception]) -> None:
    assert isinstance(_translate(ServiceError(status, code), "k", "oci://x"), error)


def test_connection_errors_are_unavailable() -> None:
    assert isinstance(_translate(ConnectionRefusedError(), "k", "s"), StoreUnavailable)
    boom = ValueError("a bug")
    assert _translate(boom, "k", "s") is boom


@pytest.mark.skipif(not HAS_OCI, reason="the oci SDK is not installed (pip install .[oci])")
def test_multipart_start_and_commit_build_sdk_models(client: RecordingClient) -> None:
    recorded: dict[str, Any] = {}

    def create_multipart_upload(ns: str, bucket: str, details: Any) -> Answer:
        recorded["create"] = details
        return Answer(type("Upload", (), {"upload_id": "u-1"})())

    def commit_multipart_upload(*args: Any) -> Answer:
        recorded["commit"] = args
        return Answer()

    client.create_multipart_upload = create_multipart_upload  # type: ignore[attr-defined]
    client.commit_multipart_upload = commit_multipart_upload  # type: ignore[attr-defined]
    store = OciStore(client, "renders", namespace="ns", prefix="p/")
    assert store.start_multipart("big") == "u-1"
    assert recorded["create"].object == "p/big"
    store.complete_multipart("big", "u-1", [PartInfo(2, "b"), PartInfo(1, "a")])
    ns, bucket, name, upload, details = recorded["commit"]
    assert (ns, bucket, name, upload) == ("ns", "renders", "p/big", "u-1")
    assert [(p.part_num, p.etag) for p in details.parts_to_commit] == [(1, "a"), (2, "b")]
