"""A local stand-in for OCI Block Storage's boot volumes and their backups, for the real SDK.

``BlockStorage`` is mounted on a ``ComputeEndpoint`` (``ComputeEndpoint(..., volumes=...)``):
the SDK's Compute and Block Storage clients both speak ``/20160918``, so one server answers
both, with the same signature check (401 ``NotAuthenticated``), the same refusals on demand
(``endpoint.fail(operation, ...)``: 429, LimitExceeded, out of capacity) and the same record of
what was ``seen`` and ``refused``. Each request's shape is checked and answered 400 with OCI's
error body when a field is wrong or missing (compartment, availability domain, the backup type
FULL or INCREMENTAL, our tags), 404 ``NotAuthorizedOrNotFound`` for what is unknown, 409
``IncorrectState`` for what is not ready.

Routes (base path ``/20160918``)::

    POST   /bootVolumes                              CreateBootVolume (from a backup)
    GET    /bootVolumes/{id}                         GetBootVolume
    DELETE /bootVolumes/{id}                         DeleteBootVolume
    POST   /bootVolumeBackups                        CreateBootVolumeBackup
    GET    /bootVolumeBackups/{id}                   GetBootVolumeBackup
    DELETE /bootVolumeBackups/{id}                   DeleteBootVolumeBackup
    POST   /bootVolumeBackups/{id}/actions/copy      CopyBootVolumeBackup
    GET    /bootVolumeAttachments?availabilityDomain=&compartmentId=&instanceId=
                                                     ListBootVolumeAttachments (Compute's)

A launch's boot volume comes from here too: ``boot`` makes one from the image or takes the
restored one, ``attach`` records the attachment, ``detach`` lets it go with its instance. Volumes
and backups move on only when the test calls ``ComputeEndpoint.advance`` (which calls
``advance`` here). Every method runs under the compute endpoint's lock.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.daemon.backends.oci_compute_endpoint import BASE, Refusal

Answer = tuple[int, bytes, dict[str, str]]
DESKTOP_TAGS = ("cloudburst-farm", "cloudburst-session", "cloudburst-user", "cloudburst-desktop")
VOLUME_FIELDS = {
    "availabilityDomain",
    "compartmentId",
    "displayName",
    "freeformTags",
    "sourceDetails",
    "sizeInGBs",
}
BACKUP_FIELDS = {"bootVolumeId", "displayName", "freeformTags", "type"}
COPY_FIELDS = {"destinationRegion", "displayName"}
ROUTES = {
    ("POST", "bootVolumes", False): "CreateBootVolume",
    ("GET", "bootVolumes", True): "GetBootVolume",
    ("DELETE", "bootVolumes", True): "DeleteBootVolume",
    ("POST", "bootVolumeBackups", False): "CreateBootVolumeBackup",
    ("GET", "bootVolumeBackups", True): "GetBootVolumeBackup",
    ("DELETE", "bootVolumeBackups", True): "DeleteBootVolumeBackup",
    ("GET", "bootVolumeAttachments", False): "ListBootVolumeAttachments",
}


class BlockStorage:
    """Boot volumes, their backups and attachments of one compartment, in memory."""

    def __init__(
        self,
        *,
        compartment_id: str,
        availability_domains: list[str],
        region: str = "us-ashburn-1",
        regions: tuple[str, ...] = ("us-ashburn-1", "us-phoenix-1", "eu-frankfurt-1"),
    ) -> None:
        self.compartment_id = compartment_id
        self.availability_domains = availability_domains
        self.region = region
        self.regions = regions
        self.volumes: dict[str, dict[str, Any]] = {}
        self.backups: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        """Attachments by instance id."""
        self.copies: dict[str, dict[str, Any]] = {}
        """Backups copied to other regions, by their new id."""

    # --- what tests (and the compute endpoint) use -----------------------------------------

    def add_backup(self, *, tags: dict[str, str], state: str = "AVAILABLE") -> str:
        """A backup made by someone else (another farm, a person)."""
        backup_id = f"ocid1.bootvolumebackup.oc1..{uuid.uuid4().hex}"
        self.backups[backup_id] = _backup(backup_id, self.compartment_id, "x", "FULL", 100, tags)
        self.backups[backup_id]["lifecycleState"] = state
        return backup_id

    def advance(self) -> None:
        """Volumes and backups move on: being made to AVAILABLE, being deleted to TERMINATED."""
        moves = {
            "PROVISIONING": "AVAILABLE",
            "RESTORING": "AVAILABLE",
            "CREATING": "AVAILABLE",
            "TERMINATING": "TERMINATED",
        }
        for item in (*self.volumes.values(), *self.backups.values(), *self.copies.values()):
            item["lifecycleState"] = moves.get(item["lifecycleState"], item["lifecycleState"])

    def route(self, method: str, path: str) -> tuple[str, str] | None:
        """The operation and id of a request here; None when the path is not Block Storage's."""
        parts = path[len(BASE) :].strip("/").split("/")
        if parts[0] not in ("bootVolumes", "bootVolumeBackups", "bootVolumeAttachments"):
            return None
        if len(parts) == 4 and parts[0] == "bootVolumeBackups" and parts[2:] == ["actions", "copy"]:
            if method != "POST":
                raise Refusal(405, "MethodNotAllowed", f"{method} is not allowed on {path}.")
            return "CopyBootVolumeBackup", parts[1]
        if len(parts) > 2:
            raise Refusal(404, "NotFound", f"No Block Storage API at {path}.")
        operation = ROUTES.get((method, parts[0], len(parts) == 2))
        if operation is None:
            raise Refusal(405, "MethodNotAllowed", f"{method} is not allowed on {path}.")
        return operation, parts[1] if len(parts) == 2 else ""

    def answer(
        self, operation: str, ident: str, query: dict[str, str], body: dict[str, Any]
    ) -> Answer:
        if operation == "CreateBootVolume":
            return _json(self._create_volume(body))
        if operation == "GetBootVolume":
            return _json(self._volume(ident))
        if operation == "DeleteBootVolume":
            return self._delete_volume(ident)
        if operation == "CreateBootVolumeBackup":
            return _json(self._create_backup(body))
        if operation == "GetBootVolumeBackup":
            return _json(self._backup(ident))
        if operation == "DeleteBootVolumeBackup":
            return self._delete_backup(ident)
        if operation == "CopyBootVolumeBackup":
            return _json(self._copy(ident, body))
        return self._attachments(query)

    def boot(self, source: dict[str, Any], domain: str, name: str, tags: dict[str, str]) -> str:
        """The boot volume of a launch: made from the image, or the given (restored) one."""
        if source.get("sourceType") == "image":
            volume_id = f"ocid1.bootvolume.oc1..{uuid.uuid4().hex}"
            size = source.get("bootVolumeSizeInGBs") or 50
            self.volumes[volume_id] = _volume(
                volume_id, self.compartment_id, domain, name, size, tags, "AVAILABLE"
            )
            return volume_id
        volume = self._volume(str(source.get("bootVolumeId")))
        if volume["lifecycleState"] != "AVAILABLE":
            raise Refusal(409, "IncorrectState", f"Boot volume {volume['id']} is not available.")
        if volume["availabilityDomain"] != domain:
            raise Refusal(400, "InvalidParameter", "The boot volume is in another domain.")
        if any(a["bootVolumeId"] == volume["id"] for a in self.attachments.values()):
            raise Refusal(409, "Conflict", f"Boot volume {volume['id']} is attached already.")
        return str(volume["id"])

    def attach(self, instance_id: str, volume_id: str) -> None:
        volume = self.volumes[volume_id]
        self.attachments[instance_id] = {
            "id": f"ocid1.instance.bootvolumeattachment.oc1..{uuid.uuid4().hex}",
            "instanceId": instance_id,
            "bootVolumeId": volume_id,
            "availabilityDomain": volume["availabilityDomain"],
            "compartmentId": self.compartment_id,
            "lifecycleState": "ATTACHED",
            "timeCreated": _now(),
        }

    def detach(self, instance_id: str, *, delete: bool) -> None:
        attachment = self.attachments.pop(instance_id, None)
        if attachment is not None and delete:
            self.volumes[attachment["bootVolumeId"]]["lifecycleState"] = "TERMINATING"

    # --- operations ------------------------------------------------------------------------

    def _create_volume(self, body: dict[str, Any]) -> dict[str, Any]:
        _fields("CreateBootVolume", body, VOLUME_FIELDS)
        domain = self._placed(body)
        source = body.get("sourceDetails") or {}
        if source.get("type") != "bootVolumeBackup":
            raise Refusal(400, "InvalidParameter", f"Unexpected boot volume source {source}.")
        backup = self._backup(str(source.get("id")))
        if backup["lifecycleState"] != "AVAILABLE":
            raise Refusal(409, "IncorrectState", f"Backup {backup['id']} is not available.")
        tags = _tagged(body, DESKTOP_TAGS)
        volume_id = f"ocid1.bootvolume.oc1..{uuid.uuid4().hex}"
        volume = _volume(
            volume_id, self.compartment_id, domain, body.get("displayName") or volume_id,
            backup["sizeInGBs"], tags, "RESTORING",
        )  # fmt: skip
        volume["sourceDetails"] = {"type": "bootVolumeBackup", "id": backup["id"]}
        self.volumes[volume_id] = volume
        return volume

    def _volume(self, volume_id: str) -> dict[str, Any]:
        volume = self.volumes.get(volume_id)
        if volume is None or volume["lifecycleState"] == "TERMINATED":
            raise Refusal(404, "NotAuthorizedOrNotFound", f"Boot volume {volume_id} not found.")
        return volume

    def _delete_volume(self, volume_id: str) -> Answer:
        volume = self._volume(volume_id)
        if any(a["bootVolumeId"] == volume_id for a in self.attachments.values()):
            raise Refusal(409, "Conflict", f"Boot volume {volume_id} is attached.")
        volume["lifecycleState"] = "TERMINATING"
        return 204, b"", {}

    def _create_backup(self, body: dict[str, Any]) -> dict[str, Any]:
        _fields("CreateBootVolumeBackup", body, BACKUP_FIELDS)
        kind = body.get("type")
        if kind not in ("FULL", "INCREMENTAL"):
            raise Refusal(400, "InvalidParameter", f"type must be FULL or INCREMENTAL, not {kind}.")
        tags = _tagged(body, (*DESKTOP_TAGS, "cloudburst-snapshot-kind"))
        if tags["cloudburst-snapshot-kind"] != kind.lower():
            raise Refusal(400, "InvalidParameter", "The snapshot kind tag is not the type.")
        volume = self._volume(str(body.get("bootVolumeId")))
        if volume["lifecycleState"] != "AVAILABLE":
            raise Refusal(409, "IncorrectState", f"Boot volume {volume['id']} is not available.")
        backup_id = f"ocid1.bootvolumebackup.oc1..{uuid.uuid4().hex}"
        name = body.get("displayName") or backup_id
        backup = _backup(backup_id, self.compartment_id, volume["id"], kind, volume["sizeInGBs"],
                         tags, name=name)  # fmt: skip
        self.backups[backup_id] = backup
        return backup

    def _backup(self, backup_id: str) -> dict[str, Any]:
        backup = self.backups.get(backup_id)
        if backup is None or backup["lifecycleState"] == "TERMINATED":
            raise Refusal(404, "NotAuthorizedOrNotFound", f"Backup {backup_id} not found.")
        return backup

    def _delete_backup(self, backup_id: str) -> Answer:
        backup = self._backup(backup_id)
        if backup["lifecycleState"] == "CREATING":
            raise Refusal(409, "IncorrectState", f"Backup {backup_id} is still being made.")
        backup["lifecycleState"] = "TERMINATING"
        return 204, b"", {}

    def _copy(self, backup_id: str, body: dict[str, Any]) -> dict[str, Any]:
        _fields("CopyBootVolumeBackup", body, COPY_FIELDS)
        region = body.get("destinationRegion")
        if region not in self.regions or region == self.region:
            raise Refusal(400, "InvalidParameter", f"Cannot copy a backup to region {region}.")
        backup = self._backup(backup_id)
        if backup["lifecycleState"] != "AVAILABLE":
            raise Refusal(409, "IncorrectState", f"Backup {backup_id} is not available.")
        copy_id = f"ocid1.bootvolumebackup.oc1.{region}.{uuid.uuid4().hex}"
        copy = {**backup, "id": copy_id, "lifecycleState": "CREATING",
                "sourceBootVolumeBackupId": backup_id, "region": region,
                "displayName": body.get("displayName") or backup["displayName"]}  # fmt: skip
        self.copies[copy_id] = copy
        return copy

    def _attachments(self, query: dict[str, str]) -> Answer:
        allowed = {"availabilityDomain", "compartmentId", "instanceId", "bootVolumeId", "page",
                   "limit"}  # fmt: skip
        if (
            set(query) - allowed
            or query.get("compartmentId") != self.compartment_id
            or query.get("availabilityDomain") not in self.availability_domains
        ):
            raise Refusal(400, "InvalidParameter", f"Cannot list attachments by {query}.")
        rows = [
            a
            for a in self.attachments.values()
            if a["availabilityDomain"] == query["availabilityDomain"]
            and query.get("instanceId") in (None, a["instanceId"])
        ]
        return 200, json.dumps(rows).encode(), {}

    def _placed(self, body: dict[str, Any]) -> str:
        if body.get("compartmentId") != self.compartment_id:
            raise Refusal(
                404, "NotAuthorizedOrNotFound",
                f"Authorization failed or requested resource not found: compartment "
                f"{body.get('compartmentId')}.",
            )  # fmt: skip
        domain = body.get("availabilityDomain")
        if domain not in self.availability_domains:
            raise Refusal(400, "InvalidParameter", f"Availability domain {domain} not found.")
        return str(domain)


def required_tags(tags: dict[str, str], names: tuple[str, ...]) -> None:
    """Refuses (400) tags that lack one of ``names``."""
    missing = [t for t in names if not tags.get(t)]
    if missing:
        raise Refusal(
            400, "InvalidParameter", f"Our resources must carry the tags {list(names)} "
            f"(missing {missing}).",
        )  # fmt: skip


def _tagged(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    tags = dict(body.get("freeformTags") or {})
    required_tags(tags, names)
    return tags


def _fields(operation: str, body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise Refusal(400, "InvalidParameter", f"Unexpected {operation} fields {sorted(unknown)}.")


def _json(item: dict[str, Any]) -> Answer:
    return 200, json.dumps(item).encode(), {"etag": uuid.uuid4().hex}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _volume(
    volume_id: str, compartment: str, domain: str, name: str, size: int, tags: dict[str, str],
    state: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": volume_id,
        "compartmentId": compartment,
        "availabilityDomain": domain,
        "displayName": name,
        "sizeInGBs": size,
        "freeformTags": dict(tags),
        "lifecycleState": state,
        "timeCreated": _now(),
    }


def _backup(
    backup_id: str, compartment: str, volume_id: str, kind: str, size: int,
    tags: dict[str, str], *, name: str = "",
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": backup_id,
        "compartmentId": compartment,
        "bootVolumeId": volume_id,
        "displayName": name or backup_id,
        "type": kind,
        "sizeInGBs": size,
        "uniqueSizeInGBs": size if kind == "FULL" else 1,
        "freeformTags": dict(tags),
        "lifecycleState": "CREATING",
        "sourceType": "MANUAL",
        "timeCreated": _now(),
    }
