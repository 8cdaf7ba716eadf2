"""The storage API: resumable uploads, checksums, limits, ranged downloads, delete/restore/purge.

Limits are small here (a 1 KiB file, 100-byte parts) so a cut-off "big" upload is cheap.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
import xxhash
from flask import Flask
from flask.testing import FlaskClient

from common.accounts import Role
from common.config import Settings
from common.ops_settings import StorageSettings
from daemon.app import Services
from tests.conftest import FakeClock, client_as, user_token
from tests.daemon.ops.helpers import ops_snapshot, store_file

DATA = bytes(range(256)) * 3  # 768 bytes
URL = "/api/v1/storage"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    limits = StorageSettings(max_file_bytes=1024, max_part_bytes=100, trash_ttl_s=3600)
    return Settings(data_dir=tmp_path / "data", storage=limits)


@pytest.fixture
def ana(app: Flask, services: Services) -> FlaskClient:
    return client_as(app, user_token(services, "ana", Role.ARTIST))


def start(client: FlaskClient, path: str = "show/plate.bin", **extra: Any) -> dict[str, Any]:
    response = client.post(f"{URL}/upload", json={"path": path, "size": len(DATA), **extra})
    assert response.status_code == 201, response.json
    upload: dict[str, Any] = response.json["data"]
    return upload


def send(client: FlaskClient, upload_id: str, start: int, end: int) -> Any:
    return client.put(f"{URL}/upload/{upload_id}?offset={start}", data=DATA[start:end])


def send_all(client: FlaskClient, upload_id: str, start: int = 0) -> None:
    for offset in range(start, len(DATA), 100):
        assert send(client, upload_id, offset, offset + 100).status_code == 200


def sha(data: bytes = DATA) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_upload_cut_half_way_shows_nothing_and_resumes(
    ana: FlaskClient, services: Services
) -> None:
    upload = start(ana)
    for offset in range(0, 400, 100):
        send(ana, upload["id"], offset, offset + 100)
    final = services.files.root / "show" / "plate.bin"
    assert not final.exists()  # the client died here: nothing visible at the path
    status = ana.get(f"{URL}/upload/{upload['id']}").json["data"]
    assert status["received"] == 400
    send_all(ana, upload["id"], start=status["received"])
    done = ana.post(f"{URL}/upload/{upload['id']}/complete", json={"checksum": sha()})
    assert done.status_code == 201, done.json
    assert final.read_bytes() == DATA
    assert done.json["data"]["checksum"] == sha()
    assert ana.get(f"{URL}/upload/{upload['id']}").status_code == 404


def test_xxh3_checksums_are_accepted(ana: FlaskClient, services: Services) -> None:
    upload = start(ana, algorithm="xxh3_128")
    send_all(ana, upload["id"])
    checksum = xxhash.xxh3_128(DATA).hexdigest()
    done = ana.post(f"{URL}/upload/{upload['id']}/complete", json={"checksum": checksum})
    assert done.status_code == 201, done.json


def test_a_resent_part_is_harmless(ana: FlaskClient) -> None:
    upload = start(ana)
    send(ana, upload["id"], 0, 100)
    again = send(ana, upload["id"], 50, 150)
    assert again.json["data"]["received"] == 150


def test_bad_uploads_get_4xx_and_change_nothing(ana: FlaskClient, services: Services) -> None:
    upload = start(ana)
    send(ana, upload["id"], 0, 100)
    cases = [
        ("POST", f"{URL}/upload", {"json": {"path": "big.bin", "size": 1025}}, 413, "too_large"),
        ("POST", f"{URL}/upload", {"json": {"path": "show/plate.bin", "size": 1}}, 409,
         "conflict"),
        ("PUT", f"{URL}/upload/{upload['id']}?offset=100", {"data": b"x" * 101}, 413,
         "too_large"),
        ("PUT", f"{URL}/upload/{upload['id']}?offset=300", {"data": b"x"}, 409, "conflict"),
        ("PUT", f"{URL}/upload/{upload['id']}?offset=-1", {"data": b"x"}, 400, "invalid_input"),
        ("PUT", f"{URL}/upload/{upload['id']}?offset=700", {"data": b"x" * 0}, 409, "conflict"),
        ("PUT", f"{URL}/upload/nope?offset=0", {"data": b"x"}, 404, "not_found"),
        ("POST", f"{URL}/upload/{upload['id']}/complete", {"json": {"checksum": sha()}}, 409,
         "conflict"),
        ("POST", f"{URL}/upload/{upload['id']}/complete", {"json": {"checksum": "xyz"}}, 400,
         "invalid_input"),
    ]  # fmt: skip
    for method, url, kwargs, status, code in cases:
        before = ops_snapshot(services)
        response = ana.open(url, method=method, **kwargs)
        assert (response.status_code, response.json["code"]) == (status, code), (url, kwargs)
        assert ops_snapshot(services) == before, url


def test_a_part_past_the_declared_size_is_refused(ana: FlaskClient) -> None:
    upload = start(ana)
    send_all(ana, upload["id"])
    response = ana.put(f"{URL}/upload/{upload['id']}?offset=700", data=b"x" * 100)
    assert response.status_code == 400


def test_a_wrong_checksum_changes_nothing_and_the_upload_can_be_fixed(
    ana: FlaskClient, services: Services
) -> None:
    upload = start(ana)
    send_all(ana, upload["id"])
    send(ana, upload["id"], 0, 0)
    ana.put(f"{URL}/upload/{upload['id']}?offset=0", data=b"\xff" * 10)  # corrupted in transit
    before = ops_snapshot(services)
    wrong = ana.post(f"{URL}/upload/{upload['id']}/complete", json={"checksum": sha()})
    assert (wrong.status_code, wrong.json["code"]) == (400, "checksum_mismatch")
    assert ops_snapshot(services) == before
    send(ana, upload["id"], 0, 100)
    fixed = ana.post(f"{URL}/upload/{upload['id']}/complete", json={"checksum": sha()})
    assert fixed.status_code == 201


def test_only_the_uploader_adds_to_an_upload(
    ana: FlaskClient, app: Flask, services: Services
) -> None:
    upload = start(ana)
    ben = client_as(app, user_token(services, "ben", Role.ARTIST))
    before = ops_snapshot(services)
    assert send(ben, upload["id"], 0, 100).status_code == 403
    assert ops_snapshot(services) == before


def test_ranged_downloads(ana: FlaskClient, services: Services) -> None:
    stored = store_file(services, "ana", "show/r.bin", DATA)
    whole = ana.get(f"{URL}/download/{stored.id}")
    assert whole.status_code == 200 and whole.data == DATA
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["X-Checksum"] == f"sha256={sha()}"
    part = ana.get(f"{URL}/download/{stored.id}", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == DATA[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(DATA)}"
    tail = ana.get(f"{URL}/download/{stored.id}", headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.data == DATA[-5:]
    past = ana.get(f"{URL}/download/{stored.id}", headers={"Range": "bytes=5000-"})
    assert past.status_code == 416


def test_who_may_download_and_delete(app: Flask, services: Services, api: FlaskClient) -> None:
    stored = store_file(services, "ana", "show/d.bin", b"frame")
    callers = {role: client_as(app, user_token(services, f"u-{role}", role)) for role in Role}
    assert callers[Role.TD].get(f"{URL}/download/{stored.id}").status_code == 200
    assert callers[Role.PRODUCER].get(f"{URL}/download/{stored.id}").status_code == 403
    before = ops_snapshot(services)
    assert callers[Role.TD].delete(f"{URL}/{stored.id}").status_code == 403
    assert ops_snapshot(services) == before
    assert api.delete(f"{URL}/{stored.id}").status_code == 200


def test_delete_restore_and_purge(ana: FlaskClient, services: Services, clock: FakeClock) -> None:
    stored = store_file(services, "ana", "show/x.bin", b"frame")
    path = services.files.root / "show" / "x.bin"
    deleted = ana.delete(f"{URL}/{stored.id}")
    assert deleted.status_code == 200 and deleted.json["data"]["purge_at"]
    assert not path.exists()
    assert ana.get(f"{URL}/download/{stored.id}").status_code == 404
    assert ana.post(f"{URL}/{stored.id}/restore").status_code == 200
    assert path.read_bytes() == b"frame"
    assert ana.get(f"{URL}/download/{stored.id}").data == b"frame"
    assert ana.delete(f"{URL}/{stored.id}").status_code == 200
    clock.advance(3599)
    assert services.files.purge() == 0
    clock.advance(2)
    before = ops_snapshot(services)
    assert ana.post(f"{URL}/{stored.id}/restore").status_code == 404  # expired
    assert ops_snapshot(services) == before
    assert services.files.purge() == 1
    assert ana.post(f"{URL}/{stored.id}/restore").status_code == 404
    assert [p for p in services.files.root.rglob("*") if p.is_file()] == []


def test_a_restore_onto_a_taken_path_is_a_conflict(ana: FlaskClient, services: Services) -> None:
    first = store_file(services, "ana", "show/y.bin", b"one")
    ana.delete(f"{URL}/{first.id}")
    store_file(services, "ana", "show/y.bin", b"two")
    before = ops_snapshot(services)
    assert ana.post(f"{URL}/{first.id}/restore").status_code == 409
    assert ops_snapshot(services) == before


def test_idle_uploads_are_purged(
    ana: FlaskClient, services: Services, clock: FakeClock, settings: Settings
) -> None:
    upload = start(ana)
    send(ana, upload["id"], 0, 100)
    clock.advance(settings.storage.upload_ttl_s + 1)
    assert services.files.purge() == 1
    assert ana.get(f"{URL}/upload/{upload['id']}").status_code == 404
    assert list(services.files.uploads_dir.iterdir()) == []


def test_a_truncated_part_is_refused_and_changes_nothing(
    ana: FlaskClient, services: Services
) -> None:
    upload = start(ana)
    send(ana, upload["id"], 0, 100)
    before = ops_snapshot(services)
    response = ana.put(
        f"{URL}/upload/{upload['id']}?offset=100", input_stream=io.BytesIO(b"x" * 40),
        environ_overrides={"CONTENT_LENGTH": "100"},
    )  # fmt: skip
    assert response.status_code == 400
    assert ops_snapshot(services) == before
    huge = ana.put(f"{URL}/upload/{upload['id']}?offset=100", input_stream=io.BytesIO(b""),
                   environ_overrides={"CONTENT_LENGTH": str(10**10)})  # fmt: skip
    assert huge.status_code == 413
    assert ops_snapshot(services) == before
