"""Stored files made directly through the service, and a snapshot that covers them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from common.accounts import Role
from common.models import StoredFile, UploadComplete, UploadCreate, UploadInfo
from daemon.app import Services
from daemon.auth import Principal
from tests.daemon.calls import snapshot


def person(name: str, role: Role = Role.ARTIST) -> Principal:
    return Principal(kind="user", name=name, role=role, user_id=1)


def start_upload(services: Services, owner: str, path: str, size: int) -> UploadInfo:
    return services.files.create_upload(UploadCreate(path=path, size=size), person(owner))


def store_file(services: Services, owner: str, path: str, data: bytes) -> StoredFile:
    """A finished file at ``path`` owned by ``owner``."""
    upload = start_upload(services, owner, path, len(data))
    step = services.context.settings.storage.max_part_bytes
    for offset in range(0, len(data), step):
        services.files.write_part(upload.id, offset, data[offset : offset + step], person(owner))
    checksum = UploadComplete(checksum=hashlib.sha256(data).hexdigest())
    return services.files.complete(upload.id, checksum, person(owner))


def ops_snapshot(services: Services) -> dict[str, Any]:
    """Every row of every table (the new ones too) and every file under the storage root."""
    db = services.context.database.db
    state: dict[str, Any] = dict(snapshot(services))
    for table in ("uploads", "stored_files", "agent_load"):
        state[table] = [tuple(r.values()) for r in db.query(f"SELECT * FROM {table} ORDER BY 1")]
    root: Path = services.files.root
    state["disk"] = sorted(
        (str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()
    )
    return state
