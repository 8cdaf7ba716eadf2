"""``OciStore`` through the real ``oci`` SDK, against a local endpoint that checks signatures.

The endpoint (``oci_endpoint``) is served by waitress on 127.0.0.1. It verifies each request's
OCI signature against the public half of an API key made for the test, checks its shape, and
keeps objects in memory. The store is opened as the daemon opens it: ``open_store`` with an OCI
config file (user, fingerprint, key_file, tenancy, region) and the endpoint as the service
endpoint. Instance principals need an OCI instance's metadata service and are not exercised.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
import requests

oci = pytest.importorskip("oci", reason="the oci SDK is not installed (pip install -e .[oci])")
pytest.importorskip("cryptography", reason="cryptography (an oci dependency) is not installed")
pytest.importorskip("waitress", reason="waitress is not installed (the daemon extra)")

from common.data.catalog import Catalog  # noqa: E402
from common.data.errors import BlobCorrupt, BlobMissing, StoreAccessDenied, UploadGone  # noqa: E402
from common.data.hashing import hash_bytes  # noqa: E402
from common.data.multipart import MultipartJournal, upload_multipart  # noqa: E402
from common.data.oci_native import OciStore  # noqa: E402
from common.data.reader import BlobReader  # noqa: E402
from common.data.store import blob_key  # noqa: E402
from common.data.store_config import StoreSettings, open_store  # noqa: E402
from common.errors import ConfigError  # noqa: E402
from tests.common.data.files import write  # noqa: E402
from tests.common.data.oci_endpoint import OciEndpoint, serve  # noqa: E402
from tests.common.data.oci_signature import ApiKey, new_api_key, oci_config  # noqa: E402
from tests.common.data.transfer import manifest_of, uploader  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "cbtestns"
BUCKET = "renders"
TENANCY = "ocid1.tenancy.oc1..aaaatest"
USER = "ocid1.user.oc1..aaaatest"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def api_key() -> ApiKey:
    return new_api_key(TENANCY, USER)


@pytest.fixture
def endpoint(api_key: ApiKey) -> Iterator[OciEndpoint]:
    app = OciEndpoint(NAMESPACE, [BUCKET], page_size=3)  # small pages: listings page
    app.trust(api_key)
    with serve(app):
        yield app


def open_oci(endpoint: OciEndpoint, config: Path, **settings: Any) -> OciStore:
    store = open_store(
        StoreSettings(
            kind="oci", bucket=BUCKET, endpoint=endpoint.url,
            oci_auth="config_file", oci_config_file=str(config), **settings,
        )
    )  # fmt: skip
    assert isinstance(store, OciStore)
    return store


def keep(into: dict[str, bytes]) -> Callable[[str, Path], None]:
    """A reader's ``accept`` that keeps each verified blob's bytes and removes its file."""

    def accept(digest: str, path: Path) -> None:
        into[digest] = path.read_bytes()
        path.unlink()

    return accept


@pytest.fixture
def store(endpoint: OciEndpoint, api_key: ApiKey, tmp_path: Path) -> OciStore:
    return open_oci(endpoint, oci_config(tmp_path / "oci", api_key), prefix="farm/")


def test_round_trip_is_signed_and_shaped_as_the_service_expects(
    store: OciStore, endpoint: OciEndpoint, api_key: ApiKey
) -> None:
    assert store.name == f"oci://{NAMESPACE}/{BUCKET}/farm/"  # the namespace was asked for
    data = os.urandom(3 * MIB + 7)
    store.put("blobs/aa/one", data)
    for i in range(4):
        store.put(f"blobs/ab/t{i}", b"tiny %d" % i)
    assert endpoint.objects[BUCKET, "farm/blobs/aa/one"].data == data
    assert b"".join(store.get("blobs/aa/one")) == data
    assert b"".join(store.get("blobs/aa/one", 1000, 24)) == data[1000:1024]
    assert b"".join(store.get("blobs/aa/one", len(data) - 5)) == data[-5:]
    listed = [(o.key, o.size) for o in store.list_objects("blobs/")]
    assert listed == [("blobs/aa/one", len(data))] + [(f"blobs/ab/t{i}", 6) for i in range(4)]
    assert endpoint.count("ListObjects") == 2  # pages of 3
    assert store.exists_many(["blobs/aa/one", "blobs/ab/t3", "blobs/cc/none"]) == {
        "blobs/aa/one",
        "blobs/ab/t3",
    }
    store.delete(["blobs/aa/one", "blobs/never/was"])
    with pytest.raises(BlobMissing, match="farm/blobs/aa/one"):
        b"".join(store.get("blobs/aa/one"))

    assert endpoint.refused == [
        f"DELETE /n/{NAMESPACE}/b/{BUCKET}/o/farm%2Fblobs%2Fnever%2Fwas: 404 ObjectNotFound: "
        "The object 'farm/blobs/never/was' was not found in the bucket 'renders'.",
        f"GET /n/{NAMESPACE}/b/{BUCKET}/o/farm%2Fblobs%2Faa%2Fone: 404 ObjectNotFound: "
        "The object 'farm/blobs/aa/one' was not found in the bucket 'renders'.",
    ]
    assert {seen.key_id for seen in endpoint.seen} == {api_key.key_id}
    puts = [seen for seen in endpoint.seen if seen.operation == "PutObject"]
    assert len(puts) == 5 and all("content-md5" in seen.headers for seen in puts)
    assert all("fields=size" in s.target for s in endpoint.seen if s.operation == "ListObjects")
    assert store.stats.requests["PutObject"] == 5
    assert store.stats.bytes_sent == len(data) + 4 * 6


def test_an_upload_skips_the_blobs_already_stored(
    store: OciStore, endpoint: OciEndpoint, tmp_path: Path
) -> None:
    files = [write(tmp_path / f"show/tex/t{i}.png", os.urandom(20_000 + i)) for i in range(12)]
    files.append(write(tmp_path / "show/geo/big.abc", os.urandom(2 * MIB)))
    daemon = tmp_path / "daemon"
    manifest = manifest_of(files, daemon)
    first = uploader(store, daemon).upload(manifest)
    assert (first.uploaded, first.packs) == (13, 1)
    puts = endpoint.count("PutObject")
    assert puts == 3  # the pack, its index, big.abc
    warm = uploader(store, daemon).upload(manifest)  # this machine's catalog knows them
    assert (warm.uploaded, warm.requests) == (0, 0)
    other = uploader(store, tmp_path / "other-daemon").upload(manifest)  # asks the store
    assert (other.uploaded, other.already_stored, other.bytes_sent) == (0, 13, 0)
    assert other.requests > 0
    assert endpoint.count("PutObject") == puts  # nothing was sent twice
    got: dict[str, bytes] = {}
    reader = BlobReader(store, Catalog(tmp_path / "node/catalog.sqlite3", store.name))
    reader.fetch(manifest.blobs(), tmp_path / "node/tmp", keep(got))
    assert got == {hash_bytes(path.read_bytes()): path.read_bytes() for path in files}


def flip(data: bytes, at: int) -> bytes:
    """``data`` with the byte at ``at`` inverted."""
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def parts_journaled(journal: Path) -> int:
    if not journal.exists():
        return 0
    with sqlite3.connect(journal, timeout=10) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM parts").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_a_killed_multipart_upload_resumes_without_corruption(
    store: OciStore, endpoint: OciEndpoint, api_key: ApiKey, tmp_path: Path
) -> None:
    part = store.min_part_size
    data = os.urandom(4 * part + 12345)  # 5 parts
    path = write(tmp_path / "huge.vdb", data)
    digest, journal = hash_bytes(data), tmp_path / "multipart.sqlite3"
    child_key = new_api_key(TENANCY, USER)  # the user's second API key, to tell who sent what
    endpoint.trust(child_key)
    config = oci_config(tmp_path / "child-oci", child_key)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.common.data.oci_multipart_child", str(config),
         endpoint.url, BUCKET, store.prefix, str(journal), str(path), digest,
         str(len(data)), str(part)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while parts_journaled(journal) < 2 and child.poll() is None:
            assert time.monotonic() < deadline, "the child sent no part"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL  # it was cut off, not finished
    done_before = parts_journaled(journal)
    assert 2 <= done_before < 5
    assert (BUCKET, "farm/" + blob_key(digest)) not in endpoint.objects
    assert len(endpoint.uploads) == 1

    result = upload_multipart(
        store, MultipartJournal(journal, store.name), blob_key(digest), path, digest, len(data),
        part_size=part,
    )  # fmt: skip
    assert (result.resumed, result.parts) == (True, 5)
    assert (result.parts_reused, result.parts_sent) == (done_before, 5 - done_before)
    sent_by = [seen.key_id for seen in endpoint.seen if seen.operation == "UploadPart"]
    assert sent_by.count(api_key.key_id) == result.parts_sent == store.stats.requests["UploadPart"]
    assert sent_by.count(child_key.key_id) >= done_before
    assert endpoint.count("CreateMultipartUpload") == 1  # the child's upload was carried on
    assert endpoint.count("CommitMultipartUpload") == 1
    assert endpoint.uploads == {}
    stored = endpoint.objects[BUCKET, "farm/" + blob_key(digest)]
    assert stored.data == data and stored.md5.endswith("-5")
    assert hash_bytes(b"".join(store.get(blob_key(digest)))) == digest
    assert parts_journaled(journal) == 0
    assert endpoint.refused == []


def test_an_aborted_upload_is_gone(store: OciStore, endpoint: OciEndpoint) -> None:
    upload_id = store.start_multipart("big")
    store.put_part("big", upload_id, 1, b"part")
    store.abort_multipart("big", upload_id)
    with pytest.raises(UploadGone):
        store.list_parts("big", upload_id)
    store.abort_multipart("big", upload_id)  # twice: not an error
    assert endpoint.uploads == {}


class TamperingSigner(oci.signer.Signer):  # type: ignore[misc]
    """Signs correctly, then changes the request: its signature, or a header it signed."""

    def __init__(self, config: dict[str, str], change: str) -> None:
        super().__init__(config["tenancy"], config["user"], config["fingerprint"],
                         config["key_file"])  # fmt: skip
        self.change = change

    def do_request_sign(self, request: Any, enforce_content_headers: bool = True) -> Any:
        request = super().do_request_sign(request, enforce_content_headers)
        if self.change == "signature":
            head, _, rest = request.headers["authorization"].partition('signature="')
            flipped = ("B" if rest[0] == "A" else "A") + rest[1:]
            request.headers["authorization"] = head + 'signature="' + flipped
        else:
            request.headers["date"] = formatdate(time.time() - 60, usegmt=True)
        return request


def tampered_store(endpoint: OciEndpoint, config: Path, change: str) -> OciStore:
    settings = oci.config.from_file(str(config))
    client = oci.object_storage.ObjectStorageClient(
        settings, signer=TamperingSigner(settings, change),
        service_endpoint=endpoint.url,
    )  # fmt: skip
    return OciStore(client, BUCKET, namespace=NAMESPACE, prefix="farm/")


@pytest.mark.parametrize("case", ["wrong key", "unknown fingerprint", "signature", "date"])
def test_a_bad_signature_is_refused_with_a_clear_error(
    case: str, endpoint: OciEndpoint, api_key: ApiKey, tmp_path: Path
) -> None:
    if case in ("wrong key", "unknown fingerprint"):
        other = new_api_key(TENANCY, USER)
        # "wrong key": the right user and fingerprint, another private key
        fingerprint = api_key.fingerprint if case == "wrong key" else None
        config = oci_config(tmp_path / "oci", other, fingerprint=fingerprint)
        with pytest.raises(StoreAccessDenied):
            open_oci(endpoint, config)  # the namespace lookup is refused at once
        store = open_oci(endpoint, config, namespace=NAMESPACE)
    else:
        store = tampered_store(endpoint, oci_config(tmp_path / "oci", api_key), case)
    with pytest.raises(StoreAccessDenied) as refused:
        store.put("blobs/ee/forged", b"forged")
    assert "refused the request (NotAuthenticated)" in str(refused.value)
    assert "API key in the OCI config file" in str(refused.value)
    assert not isinstance(refused.value, oci.exceptions.ServiceError)
    assert endpoint.objects == {} and endpoint.seen == []
    assert endpoint.refused and all(": 401 NotAuthenticated:" in r for r in endpoint.refused)
    reason = {"wrong key": "does not verify", "unknown fingerprint": "unknown keyId",
              "signature": "does not verify", "date": "does not verify"}[case]  # fmt: skip
    assert reason in endpoint.refused[-1]


def test_an_unsigned_request_is_refused(endpoint: OciEndpoint) -> None:
    answer = requests.get(f"{endpoint.url}/n/{NAMESPACE}/b/{BUCKET}/o", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["code"] == "NotAuthenticated"
    assert answer.headers["opc-request-id"]
    assert "no Authorization header" in endpoint.refused[0]


def test_a_broken_config_is_a_config_error(
    endpoint: OciEndpoint, api_key: ApiKey, tmp_path: Path
) -> None:
    config = oci_config(tmp_path / "oci", api_key)
    (tmp_path / "oci/api_key.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="InvalidPrivateKey"):
        open_oci(endpoint, config)
    with pytest.raises(ConfigError, match="ConfigFileNotFound"):
        open_oci(endpoint, tmp_path / "no-such-config")


def test_a_blob_altered_in_the_store_is_detected_and_never_used(
    store: OciStore, endpoint: OciEndpoint, tmp_path: Path
) -> None:
    files = [write(tmp_path / f"show/t{i}.png", os.urandom(30_000 + i)) for i in range(4)]
    files.append(write(tmp_path / "show/big.abc", os.urandom(2 * MIB)))
    manifest = manifest_of(files, tmp_path / "daemon")
    uploader(store, tmp_path / "daemon").upload(manifest)
    texture, big = files[1].read_bytes(), files[-1].read_bytes()
    big_name = "farm/" + blob_key(hash_bytes(big))
    endpoint.tamper(BUCKET, big_name, flip(big, 0))  # bit rot in the store's copy
    (pack_name,) = [name for _, name in endpoint.objects if name.startswith("farm/packs/")]
    pack = endpoint.objects[BUCKET, pack_name].data
    endpoint.tamper(BUCKET, pack_name, flip(pack, pack.index(texture) + 7))

    got: dict[str, bytes] = {}
    reader = BlobReader(store, Catalog(tmp_path / "node/catalog.sqlite3", store.name))
    with pytest.raises(BlobCorrupt, match="2 file"):
        reader.fetch(manifest.blobs(), tmp_path / "node/tmp", keep(got))
    good = {
        hash_bytes(p.read_bytes()): p.read_bytes() for p in files if p not in (files[1], files[-1])
    }
    assert got == good  # the two altered blobs were never handed over
    assert list((tmp_path / "node/tmp").iterdir()) == []  # nor left on disk

    # a read garbled once on the way is read again, verified, and used
    endpoint.tamper(BUCKET, big_name, big)
    endpoint.garble_next_read(BUCKET, big_name)
    got.clear()
    report = reader.fetch({hash_bytes(big): len(big)}, tmp_path / "node/tmp", keep(got))
    assert report.refetched == 1
    assert got == {hash_bytes(big): big}
