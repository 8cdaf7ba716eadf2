"""A backup's manifest, its id, and where its objects live at a destination.

A destination holds, under its prefix::

    manifests/<id>.json              one per finished, verified backup (listing reads only these)
    objects/<id>/<ab>/<cdef...>      the bytes a backup stored, named by their xxh3-128 hash
    runs/<id>.json                   a backup being written, or being pruned

A full backup's manifest names only its own objects. An incremental's names its own and its
full's (``base``), never another incremental's, so any incremental can be pruned alone and
each one needs exactly one other backup.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.data.hashing import HASH_PATTERN
from common.models import BackupInfo, BackupKind
from daemon.backup.contents import check_name

ID_PATTERN = r"^[0-9]{8}T[0-9]{6}Z-(full|incr)-[0-9a-f]{4}$"
_ID = re.compile(ID_PATTERN)
MANIFESTS = "manifests/"
OBJECTS = "objects/"
RUNS = "runs/"

BackupId = Annotated[str, Field(pattern=ID_PATTERN)]


def new_id(now: float, kind: BackupKind) -> str:
    """A fresh id: sortable by time, and saying the kind."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return f"{stamp}-{'full' if kind is BackupKind.FULL else 'incr'}-{secrets.token_hex(2)}"


def is_id(text: str) -> bool:
    return bool(_ID.match(text))


def manifest_key(backup_id: str) -> str:
    return f"{MANIFESTS}{backup_id}.json"


def object_key(holder: str, digest: str) -> str:
    return f"{OBJECTS}{holder}/{digest[:2]}/{digest[2:]}"


def run_key(backup_id: str) -> str:
    return f"{RUNS}{backup_id}.json"


class ManifestEntry(BaseModel):
    """One file a restore writes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Its path inside the data folder, ``/``-separated."""
    hash: Annotated[str, Field(pattern=HASH_PATTERN)]
    size: Annotated[int, Field(ge=0)]
    holder: BackupId
    """The backup whose objects hold its bytes: this one, or its full."""


class Manifest(BaseModel):
    """Everything a restore needs to know, written last: a backup without one is unfinished."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    id: BackupId
    kind: BackupKind
    base: BackupId | None
    created_at: float
    verified_at: float
    schema_version: int
    source: str
    """The data folder it was taken of (``host:/path``), for people."""
    config_source: str | None
    """The configuration file it holds as ``config.toml``, where it was; None: none."""
    entries: list[ManifestEntry]

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        """Refuses a manifest a restore must not trust: bytes held by a backup it does not
        depend on, a name outside a data folder, or a name twice."""
        holders = {self.id} if self.kind is BackupKind.FULL else {self.id, self.base}
        if (self.kind is BackupKind.FULL) != (self.base is None):
            raise ValueError("a full backup has no base; an incremental has one")
        if self.id.split("-")[1] != ("full" if self.kind is BackupKind.FULL else "incr"):
            raise ValueError("the id does not say the backup's kind")
        for entry in self.entries:
            check_name(entry.name)
            if entry.holder not in holders:
                raise ValueError(f"{entry.name} is held by {entry.holder}, not this backup's")
        if len({e.name for e in self.entries}) != len(self.entries):
            raise ValueError("a file is named twice")
        return self

    @property
    def size(self) -> int:
        return sum(entry.size for entry in self.entries)

    @property
    def stored(self) -> int:
        """Bytes in this backup's own objects (each hash once)."""
        return sum({e.hash: e.size for e in self.entries if e.holder == self.id}.values())

    def info(self) -> BackupInfo:
        return BackupInfo(
            id=self.id, kind=self.kind, base=self.base,
            created_at=datetime.fromtimestamp(self.created_at, tz=UTC),
            verified_at=datetime.fromtimestamp(self.verified_at, tz=UTC),
            files=len(self.entries), size=self.size, stored=self.stored,
            schema_version=self.schema_version,
        )  # fmt: skip
