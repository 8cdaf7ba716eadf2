"""Desktops' boot volumes and their backups in OCI Block Storage, for ``OciDesktops``.

A snapshot of a desktop is a boot volume backup (full or incremental), tagged as the desktop
is, plus its kind; a restore is a new boot volume made from one, in the desktops' availability
domain, waited for (bounded by ``[sessions.oci] volume_wait_s``) before an instance boots from
it; an archive is a copy of a backup in ``[sessions.oci] archive_region``. Only backups tagged
with this farm are read, deleted, copied or restored; a restore only from the same person's.

``DesktopCalls`` is how every desktop request reaches OCI: ``oci_client.Caller`` (429 retried
with a bounded backoff, 401 a ``ConfigError``) with OCI's refusals turned into
``DesktopRefused`` sentences and the rest into ``CloudError``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from common.cloud_settings import OciComputeSettings
from common.desktop_settings import OciDesktopSettings
from common.errors import CloudburstError, ConfigError
from daemon.backends.base import TAG_FARM, CloudError
from daemon.backends.desktops import (
    TAG_USER,
    BackupKind,
    BackupState,
    DesktopRefused,
    VolumeBackup,
)
from daemon.backends.oci_client import Caller, Refusal, classify, describe_error

logger = logging.getLogger(__name__)

#: A boot volume backup's lifecycle state to ours (TERMINATED: gone, ``info`` is None).
BACKUP_STATES = {
    "REQUEST_RECEIVED": BackupState.CREATING,
    "CREATING": BackupState.CREATING,
    "AVAILABLE": BackupState.AVAILABLE,
    "FAULTY": BackupState.FAULTY,
    "TERMINATING": BackupState.TERMINATED,
}
#: How often a restore asks whether its boot volume is ready (at most; the wait is bounded).
VOLUME_POLL_S = 5.0


class DesktopCalls:
    """Calls the SDK for desktops. Thread-safe (holds no state but its settings)."""

    def __init__(
        self, settings: OciComputeSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings
        self._caller = Caller(settings, sleep=sleep)

    def __call__(
        self,
        operation: str,
        method: Callable[..., Any],
        *args: Any,
        asking_for: str = "",
        absent_ok: tuple[Refusal, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """``method(*args, **kwargs)`` through ``Caller.call``, with OCI's answers as ours.

        Args:
            asking_for: what the request asks OCI for (``a VM.GPU.A10.1 desktop``), named in
                the sentence of a refusal.
            absent_ok: the refusals that mean there is nothing to do (None is returned).

        Raises:
            DesktopRefused: out of host capacity, a limit or quota, or still throttled.
            ConfigError: OCI refused our credentials.
            CloudError: any other failure or answer.
        """
        try:
            return self._caller.call(operation, method, *args, **kwargs)
        except CloudburstError:
            raise
        except Exception as exc:
            refusal = classify(exc)
            if refusal is None:
                raise
            if refusal in absent_ok:
                return None
            text = describe_error(exc)
            wanted = asking_for or f"the {operation} request"
            if refusal is Refusal.OUT_OF_CAPACITY:
                raise DesktopRefused(
                    f"OCI has no capacity for {wanted} right now ({text}). Start another "
                    "desktop profile, or try again later."
                ) from exc
            if refusal is Refusal.LIMIT_EXCEEDED:
                raise DesktopRefused(
                    f"OCI refused {wanted}: the tenancy's limit or quota is reached ({text}). "
                    "Start another desktop profile, end a session you no longer use, or ask "
                    "IT to raise the limit."
                ) from exc
            if refusal is Refusal.THROTTLED:
                raise DesktopRefused(
                    f"OCI kept answering too many requests for {wanted} ({text}) after "
                    f"{self.settings.throttle_retries} retries: try again in a minute."
                ) from exc
            raise CloudError(f"OCI refused {operation} ({text}).") from exc


class BootVolumes:
    """This farm's desktop boot volumes and backups. Thread-safe (keeps no state)."""

    def __init__(
        self,
        client: Any,
        call: DesktopCalls,
        *,
        compartment_id: str,
        farm: str,
        settings: OciDesktopSettings,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Keeps what it is given; sends nothing to OCI yet.

        Args:
            client: an SDK ``BlockstorageClient``.
            call: how requests are made (``DesktopCalls``).
            compartment_id: where restored volumes are made.
            farm: the farm tag every backup of ours carries.
            settings: ``[sessions.oci]`` (archive region, restore wait).
            clock: seconds since the epoch (bounds the wait for a restored volume).
            sleep: waits between polls of a restored volume.
        """
        self._client = client
        self._call = call
        self.compartment_id = compartment_id
        self.farm = farm
        self.settings = settings
        self._clock = clock
        self._sleep = sleep

    def restore(self, backup_id: str, *, user: str, domain: str, name: str,
                tags: dict[str, str]) -> str:  # fmt: skip
        """A new boot volume made from ``backup_id``, once it is AVAILABLE; its id.

        Raises:
            DesktopRefused: the backup is not this farm's, not of ``user``'s desktop, or not
                available; OCI refused the volume.
            CloudError: the volume failed, or was not ready within ``volume_wait_s``.

        Whatever ends the wait for the new volume but its being AVAILABLE (a failed poll
        included) deletes it before the error goes on.
        """
        from oci.core.models import (
            BootVolumeSourceFromBootVolumeBackupDetails,
            CreateBootVolumeDetails,
        )

        backup = self._backup(backup_id)
        if backup is None or (backup.freeform_tags or {}).get(TAG_USER) != user:
            raise DesktopRefused(
                f"Boot volume backup {backup_id} is not one of {user}'s snapshots on this "
                "farm: restore one of theirs (GET /api/v1/snapshots lists them)."
            )
        if backup.lifecycle_state != "AVAILABLE":
            raise DesktopRefused(
                f"Boot volume backup {backup_id} is {str(backup.lifecycle_state).lower()}: "
                "restore it once it is available, or restore another snapshot."
            )
        answer = self._call(
            "CreateBootVolume",
            self._client.create_boot_volume,
            CreateBootVolumeDetails(
                compartment_id=self.compartment_id,
                availability_domain=domain,
                display_name=name,
                freeform_tags=tags,
                source_details=BootVolumeSourceFromBootVolumeBackupDetails(id=backup_id),
            ),
            opc_retry_token=uuid.uuid4().hex,
            asking_for="a boot volume restored from a snapshot",
        )
        volume_id: str = answer.data.id
        try:
            self._wait_available(volume_id, backup_id, answer.data.lifecycle_state)
        except BaseException:
            # A poll refused, throttled or not allowed, a failed or late volume: none is left.
            self.delete_volume(volume_id)
            raise
        return volume_id

    def _wait_available(self, volume_id: str, backup_id: str, state: Any) -> None:
        """Polls the restored boot volume until it is AVAILABLE (bounded by volume_wait_s).

        Raises:
            CloudError: the volume failed, or was not ready in time.
        """
        wait = self.settings.volume_wait_s
        deadline = self._clock() + wait
        while state != "AVAILABLE":
            left = deadline - self._clock()
            if state in ("FAULTY", "TERMINATING", "TERMINATED") or left <= 0:
                why = (
                    f"is {str(state).lower()}"
                    if left > 0
                    else f"was not available within {wait:.0f} s ([sessions.oci] volume_wait_s)"
                )
                raise CloudError(
                    f"The boot volume restored from backup {backup_id} {why}: try again, or "
                    "restore another snapshot."
                )
            self._sleep(min(VOLUME_POLL_S, left))
            state = self._call(
                "GetBootVolume", self._client.get_boot_volume, volume_id
            ).data.lifecycle_state

    def delete_volume(self, volume_id: str) -> None:
        """Deletes a boot volume no instance uses; a failure is logged (the volume is tagged
        ours, so IT can find it)."""
        try:
            self._call(
                "DeleteBootVolume",
                self._client.delete_boot_volume,
                volume_id,
                absent_ok=(Refusal.NOT_FOUND,),
            )
        except CloudburstError as exc:
            logger.error("cannot delete boot volume %s: %s", volume_id, exc.message)

    def backup(
        self, volume_id: str, kind: BackupKind, name: str, tags: dict[str, str]
    ) -> VolumeBackup:
        """Starts a backup of a boot volume (tagged ``tags``)."""
        from oci.core.models import CreateBootVolumeBackupDetails

        answer = self._call(
            "CreateBootVolumeBackup",
            self._client.create_boot_volume_backup,
            CreateBootVolumeBackupDetails(
                boot_volume_id=volume_id,
                display_name=name,
                type=kind.value.upper(),
                freeform_tags=tags,
            ),
            opc_retry_token=uuid.uuid4().hex,
            asking_for="a boot volume backup",
        )
        return volume_backup(answer.data)

    def info(self, backup_id: str) -> VolumeBackup | None:
        found = self._backup(backup_id)
        if found is None or found.lifecycle_state == "TERMINATED":
            return None
        return volume_backup(found)

    def delete(self, backup_id: str) -> None:
        found = self._backup(backup_id)
        if found is None or found.lifecycle_state in ("TERMINATING", "TERMINATED"):
            return
        self._call(
            "DeleteBootVolumeBackup",
            self._client.delete_boot_volume_backup,
            backup_id,
            absent_ok=(Refusal.NOT_FOUND,),
        )
        logger.info("deleting boot volume backup %s", backup_id)

    def archive(self, backup_id: str) -> str:
        """Copies an available backup to the archive region; ``oci://<region>/bootVolumeBackups/
        <copy's id>``.

        Raises:
            ConfigError: no ``[sessions.oci] archive_region``.
            DesktopRefused: the backup is not this farm's, or not available yet.
        """
        from oci.core.models import CopyBootVolumeBackupDetails

        region = self.settings.archive_region
        if not region:
            raise ConfigError(
                "Set [sessions.oci] archive_region (e.g. us-phoenix-1) to archive snapshots: "
                "the region boot volume backups are copied to before they are deleted here."
            )
        found = self._backup(backup_id)
        if found is None or found.lifecycle_state == "TERMINATED":
            raise DesktopRefused(
                f"Boot volume backup {backup_id} is not one of this farm's (or was deleted): "
                "there is nothing to archive."
            )
        if found.lifecycle_state != "AVAILABLE":
            raise DesktopRefused(
                f"Boot volume backup {backup_id} is {str(found.lifecycle_state).lower()}: "
                "archive it once it is available."
            )
        answer = self._call(
            "CopyBootVolumeBackup",
            self._client.copy_boot_volume_backup,
            backup_id,
            CopyBootVolumeBackupDetails(
                destination_region=region, display_name=f"{found.display_name} (archive)"
            ),
            opc_retry_token=uuid.uuid4().hex,
        )
        uri = f"oci://{region}/bootVolumeBackups/{answer.data.id}"
        logger.info("archiving boot volume backup %s to %s", backup_id, uri)
        return uri

    def _backup(self, backup_id: str) -> Any:
        """The boot volume backup if it is one of this farm's, else None."""
        answer = self._call(
            "GetBootVolumeBackup",
            self._client.get_boot_volume_backup,
            backup_id,
            absent_ok=(Refusal.NOT_FOUND,),
        )
        if answer is None:
            return None
        if (answer.data.freeform_tags or {}).get(TAG_FARM) != self.farm:
            logger.warning("backup %s is not of farm %s: left alone", backup_id, self.farm)
            return None
        return answer.data


def volume_backup(backup: Any) -> VolumeBackup:
    """Ours of an SDK ``BootVolumeBackup``."""
    size = backup.unique_size_in_gbs or backup.size_in_gbs
    return VolumeBackup(
        id=backup.id,
        boot_volume_id=backup.boot_volume_id or "",
        kind=BackupKind.INCREMENTAL if backup.type == "INCREMENTAL" else BackupKind.FULL,
        state=BACKUP_STATES.get(backup.lifecycle_state or "", BackupState.CREATING),
        created_at=backup.time_created.timestamp() if backup.time_created else 0.0,
        size_gb=float(size) if size is not None else None,
        name=backup.display_name or "",
    )
