"""``OciDesktops``: artists' desktops as OCI Compute instances, their snapshots as boot volume
backups in Block Storage, through the ``oci`` SDK.

A desktop is one on-demand instance of its profile's shape in the desktops' private subnet (no
public IP: artists reach it over the studio's VPN), booted from the profile's image or from a
boot volume restored from a backup, with cloud-init user data that starts the desktop agent
(``cloud_init.desktop_cloud_config``). The instance, its VNIC, its boot volume and every backup
carry our freeform tags (farm, session, user, profile; a backup also its kind): listing by the
farm tag is how the backend finds its desktops, and nothing of another farm or person is ever
touched -- every id the daemon passes is checked to be ours before it is used.

What OCI answers and what the backend raises:

* 500 "Out of host capacity.", 400 LimitExceeded or QuotaExceeded, and 429 TooManyRequests
  after a bounded backoff (``oci_client.Caller``) -- ``DesktopRefused``, saying what to do.
* 401 NotAuthenticated -- ``ConfigError`` naming the configuration to fix.
* 404 on terminate and delete -- nothing to do (they are idempotent).
* anything else -- ``CloudError`` with OCI's status, code and message.

What the backend itself refuses is ``DesktopRefused`` too, as every desktop backend's: a backup
of a desktop that has ended, a restore from a backup that is not of this farm or not of the
same person's desktop, an archive of a backup that is not available yet.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from common.config import Settings
from common.errors import CloudburstError, ConfigError
from daemon.backends.base import TAG_FARM, CloudError, NodeState
from daemon.backends.cloud_init import DesktopStart, encode_user_data, render_desktop_user_data
from daemon.backends.desktops import (
    TAG_PROFILE,
    TAG_SESSION,
    TAG_SNAPSHOT_KIND,
    TAG_USER,
    BackupKind,
    BackupState,
    Desktop,
    DesktopLaunch,
    DesktopRefused,
    DesktopState,
    VolumeBackup,
)
from daemon.backends.oci_client import (
    Caller,
    Refusal,
    classify,
    describe_error,
    make_blockstorage_client,
    make_compute_client,
)
from daemon.backends.oci_compute import STATES as INSTANCE_STATES

logger = logging.getLogger(__name__)

#: A boot volume backup's lifecycle state to ours (TERMINATED: gone, ``backup_info`` is None).
BACKUP_STATES = {
    "REQUEST_RECEIVED": BackupState.CREATING,
    "CREATING": BackupState.CREATING,
    "AVAILABLE": BackupState.AVAILABLE,
    "FAULTY": BackupState.FAULTY,
    "TERMINATING": BackupState.TERMINATED,
}
#: How often a restore asks whether its boot volume is ready (at most; the wait is bounded).
VOLUME_POLL_S = 5.0


class OciDesktops:
    """Desktops on OCI. Thread-safe: the SDK clients are, and the backend keeps no state."""

    name = "oci"

    def __init__(
        self,
        settings: Settings,
        *,
        compute_client: Any = None,
        blockstorage_client: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Builds the backend; sends nothing to OCI yet.

        Args:
            settings: the farm's settings: ``[cloud.oci]`` (compartment, credentials, region,
                Compute endpoint), ``[sessions.oci]`` (subnet, availability domain, Block
                Storage endpoint, archive region, restore wait), ``[[desktops]]``.
            compute_client: an SDK ``ComputeClient``; made from the settings when None.
            blockstorage_client: an SDK ``BlockstorageClient``; made from the settings when None.
            clock: seconds since the epoch (bounds the wait for a restored volume).
            sleep: waits between polls and between retries of throttled requests.

        Raises:
            ConfigError: no compartment, or the OCI credentials cannot be loaded.
        """
        self.settings = settings
        self.oci = settings.cloud.oci
        self.desktop_settings = settings.sessions.oci
        self.farm = settings.cloud.farm
        if not self.oci.compartment_id:
            raise ConfigError("Set [cloud.oci] compartment_id: the compartment desktops run in.")
        self._compute = compute_client or make_compute_client(self.oci)
        self._volumes = blockstorage_client or make_blockstorage_client(
            self.oci, self.desktop_settings.blockstorage_endpoint
        )
        self._caller = Caller(self.oci, sleep=sleep)
        self._clock = clock
        self._sleep = sleep

    # --- DesktopBackend: instances -------------------------------------------------------

    def launch(self, request: DesktopLaunch) -> Desktop:
        domain, subnet = self._placement()
        profile = request.profile
        if request.restore_backup_id is None and not profile.image_id:
            raise ConfigError(
                f"Set image_id of desktop profile {profile.name}: the image its desktops boot."
            )
        tags = {
            TAG_FARM: self.farm,
            TAG_SESSION: str(request.session_id),
            TAG_USER: request.user,
            TAG_PROFILE: profile.name,
        }
        user_data = render_desktop_user_data(
            DesktopStart(
                daemon_url=request.daemon_url,
                session_id=request.session_id,
                secret=request.secret,
                port=profile.display_port,
                protocol=profile.protocol,
                package=self.desktop_settings.agent_package,
                pip_index_url=self.settings.cloud.pip_index_url,
                python=self.settings.cloud.node_python,
            )
        )
        volume_id = None
        if request.restore_backup_id is not None:
            volume_id = self._restored_volume(request, domain, tags)
        try:
            answer = self._call(
                "LaunchInstance",
                self._compute.launch_instance,
                self._launch_details(request, domain, subnet, tags, user_data, volume_id),
                opc_retry_token=uuid.uuid4().hex,
                asking_for=f"a {profile.shape} desktop",
            )
        except Exception:
            if volume_id is not None:  # no instance owns it: it would cost for nothing
                self._delete_volume(volume_id)
            raise
        desktop = self._desktop(answer.data, volume_id or "")
        logger.info(
            "launched desktop %s (%s) of session %d for %s in %s%s",
            request.name, desktop.id, request.session_id, request.user, domain,
            f", restored from {request.restore_backup_id}" if volume_id else "",
        )  # fmt: skip
        return desktop

    def desktops(self) -> list[Desktop]:
        found = []
        for instance in self._list_ours():
            if instance.lifecycle_state != "TERMINATED":
                found.append(self._desktop(instance, self._boot_volume_of(instance)))
        return found

    def desktop(self, desktop_id: str) -> Desktop | None:
        instance = self._instance(desktop_id)
        if instance is None or instance.lifecycle_state == "TERMINATED":
            return None
        return self._desktop(instance, self._boot_volume_of(instance))

    def terminate(self, desktop_id: str) -> None:
        instance = self._instance(desktop_id)
        if instance is None or instance.lifecycle_state in ("TERMINATING", "TERMINATED"):
            return
        self._call(
            "TerminateInstance",
            self._compute.terminate_instance,
            desktop_id,
            preserve_boot_volume=False,
            absent_ok=(Refusal.NOT_FOUND, Refusal.CONFLICT),  # gone, or already terminating
        )
        logger.info("terminating desktop %s (%s)", instance.display_name, desktop_id)

    # --- DesktopBackend: backups ---------------------------------------------------------

    def backup(self, desktop_id: str, kind: BackupKind, name: str) -> VolumeBackup:
        from oci.core.models import CreateBootVolumeBackupDetails

        instance = self._instance(desktop_id)
        if instance is None or instance.lifecycle_state in ("TERMINATING", "TERMINATED"):
            raise DesktopRefused(
                f"Desktop {desktop_id} is not a running desktop of this farm, so it has no boot "
                "volume to back up: take snapshots while the session is live."
            )
        volume_id = self._boot_volume_of(instance)
        if not volume_id:
            raise DesktopRefused(
                f"Desktop {desktop_id} has no boot volume attached yet: back it up once it runs."
            )
        tags = {**_our_tags(instance.freeform_tags), TAG_SNAPSHOT_KIND: kind.value}
        answer = self._call(
            "CreateBootVolumeBackup",
            self._volumes.create_boot_volume_backup,
            CreateBootVolumeBackupDetails(
                boot_volume_id=volume_id,
                display_name=name,
                type=kind.value.upper(),
                freeform_tags=tags,
            ),
            opc_retry_token=uuid.uuid4().hex,
            asking_for="a boot volume backup",
        )
        backup = _volume_backup(answer.data)
        logger.info("backing up desktop %s: %s backup %s", desktop_id, kind.value, backup.id)
        return backup

    def backup_info(self, backup_id: str) -> VolumeBackup | None:
        found = self._backup(backup_id)
        if found is None or found.lifecycle_state == "TERMINATED":
            return None
        return _volume_backup(found)

    def delete_backup(self, backup_id: str) -> None:
        found = self._backup(backup_id)
        if found is None or found.lifecycle_state in ("TERMINATING", "TERMINATED"):
            return
        self._call(
            "DeleteBootVolumeBackup",
            self._volumes.delete_boot_volume_backup,
            backup_id,
            absent_ok=(Refusal.NOT_FOUND,),
        )
        logger.info("deleting boot volume backup %s", backup_id)

    def archive_backup(self, backup_id: str) -> str:
        from oci.core.models import CopyBootVolumeBackupDetails

        region = self.desktop_settings.archive_region
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
            self._volumes.copy_boot_volume_backup,
            backup_id,
            CopyBootVolumeBackupDetails(
                destination_region=region, display_name=f"{found.display_name} (archive)"
            ),
            opc_retry_token=uuid.uuid4().hex,
        )
        uri = f"oci://{region}/bootVolumeBackups/{answer.data.id}"
        logger.info("archiving boot volume backup %s to %s", backup_id, uri)
        return uri

    def close(self) -> None:
        for client in (self._compute, self._volumes):
            session = getattr(getattr(client, "base_client", None), "session", None)
            if session is not None:
                session.close()

    # --- OCI -------------------------------------------------------------------------------

    def _placement(self) -> tuple[str, str]:
        """The availability domain and subnet desktops launch in.

        Raises:
            ConfigError: neither ``[sessions.oci]`` nor ``[cloud.oci]`` names them.
        """
        domain = self.desktop_settings.availability_domain or next(
            iter(self.oci.availability_domains), ""
        )
        subnet = self.desktop_settings.subnet_id or self.oci.subnet_id
        missing = [name for name, value in (("availability_domain", domain),
                                            ("subnet_id", subnet)) if not value]  # fmt: skip
        if missing:
            raise ConfigError(
                f"Set [sessions.oci] {' and '.join(missing)} (or [cloud.oci]'s) to launch desktops."
            )
        return domain, subnet

    def _launch_details(
        self,
        request: DesktopLaunch,
        domain: str,
        subnet: str,
        tags: dict[str, str],
        user_data: str,
        volume_id: str | None,
    ) -> Any:
        from oci.core.models import (
            CreateVnicDetails,
            InstanceOptions,
            InstanceSourceViaBootVolumeDetails,
            InstanceSourceViaImageDetails,
            LaunchInstanceDetails,
            LaunchInstanceShapeConfigDetails,
        )

        profile = request.profile
        shape_config = None
        if profile.ocpus is not None or profile.memory_gb is not None:
            shape_config = LaunchInstanceShapeConfigDetails(
                ocpus=profile.ocpus, memory_in_gbs=profile.memory_gb
            )
        source: Any
        if volume_id is not None:
            source = InstanceSourceViaBootVolumeDetails(boot_volume_id=volume_id)
        else:
            source = InstanceSourceViaImageDetails(
                image_id=profile.image_id, boot_volume_size_in_gbs=profile.boot_volume_gb
            )
        return LaunchInstanceDetails(
            compartment_id=self.oci.compartment_id,
            availability_domain=domain,
            display_name=request.name,
            shape=profile.shape,
            shape_config=shape_config,
            source_details=source,
            create_vnic_details=CreateVnicDetails(
                subnet_id=subnet,
                assign_public_ip=False,
                display_name=request.name,
                nsg_ids=list(self.oci.nsg_ids) or None,
                freeform_tags=tags,
            ),
            instance_options=InstanceOptions(are_legacy_imds_endpoints_disabled=True),
            metadata={"user_data": encode_user_data(user_data)},
            freeform_tags=tags,
        )

    def _restored_volume(self, request: DesktopLaunch, domain: str, tags: dict[str, str]) -> str:
        """A new boot volume made from ``request.restore_backup_id``, once it is AVAILABLE.

        Raises:
            DesktopRefused: the backup is not one of this farm's made of the same user's desktop.
            CloudError: the volume failed, or was not ready within ``volume_wait_s`` (it is
                deleted then).
        """
        from oci.core.models import (
            BootVolumeSourceFromBootVolumeBackupDetails,
            CreateBootVolumeDetails,
        )

        backup_id = request.restore_backup_id or ""
        backup = self._backup(backup_id)
        if backup is None or (backup.freeform_tags or {}).get(TAG_USER) != request.user:
            raise DesktopRefused(
                f"Boot volume backup {backup_id} is not one of {request.user}'s snapshots on this "
                "farm: restore one of theirs (GET /api/v1/snapshots lists them)."
            )
        answer = self._call(
            "CreateBootVolume",
            self._volumes.create_boot_volume,
            CreateBootVolumeDetails(
                compartment_id=self.oci.compartment_id,
                availability_domain=domain,
                display_name=request.name,
                freeform_tags=tags,
                source_details=BootVolumeSourceFromBootVolumeBackupDetails(id=backup_id),
            ),
            opc_retry_token=uuid.uuid4().hex,
            asking_for="a boot volume restored from a snapshot",
        )
        volume_id: str = answer.data.id
        wait = self.desktop_settings.volume_wait_s
        deadline = self._clock() + wait
        state = answer.data.lifecycle_state
        while state != "AVAILABLE":
            left = deadline - self._clock()
            if state in ("FAULTY", "TERMINATING", "TERMINATED") or left <= 0:
                self._delete_volume(volume_id)
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
                "GetBootVolume", self._volumes.get_boot_volume, volume_id
            ).data.lifecycle_state
        return volume_id

    def _delete_volume(self, volume_id: str) -> None:
        """Deletes a boot volume no instance uses; a failure is logged (the volume is tagged
        ours, so IT can find it)."""
        try:
            self._call(
                "DeleteBootVolume",
                self._volumes.delete_boot_volume,
                volume_id,
                absent_ok=(Refusal.NOT_FOUND,),
            )
        except CloudburstError as exc:
            logger.error("cannot delete boot volume %s: %s", volume_id, exc.message)

    def _call(
        self,
        operation: str,
        method: Callable[..., Any],
        *args: Any,
        asking_for: str = "",
        absent_ok: tuple[Refusal, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """``Caller.call``, with OCI's answers turned into ours (see the module's docstring).

        Args:
            asking_for: what the request asks OCI for (``a VM.GPU.A10.1 desktop``), named in
                the sentence of a refusal.
            absent_ok: the refusals that mean there is nothing to do (None is returned).
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
                    f"{self.oci.throttle_retries} retries: try again in a minute."
                ) from exc
            raise CloudError(f"OCI refused {operation} ({text}).") from exc

    def _instance(self, instance_id: str) -> Any:
        """The instance if it is one of this farm's desktops, else None."""
        answer = self._call(
            "GetInstance", self._compute.get_instance, instance_id, absent_ok=(Refusal.NOT_FOUND,)
        )
        if answer is None:
            return None
        if not self._ours(answer.data.freeform_tags):
            logger.warning("instance %s is not a desktop of farm %s: left alone", instance_id,
                           self.farm)  # fmt: skip
            return None
        return answer.data

    def _backup(self, backup_id: str) -> Any:
        """The boot volume backup if it is one of this farm's, else None."""
        answer = self._call(
            "GetBootVolumeBackup",
            self._volumes.get_boot_volume_backup,
            backup_id,
            absent_ok=(Refusal.NOT_FOUND,),
        )
        if answer is None:
            return None
        if (answer.data.freeform_tags or {}).get(TAG_FARM) != self.farm:
            logger.warning("backup %s is not of farm %s: left alone", backup_id, self.farm)
            return None
        return answer.data

    def _ours(self, tags: dict[str, str] | None) -> bool:
        tags = tags or {}
        return tags.get(TAG_FARM) == self.farm and bool(tags.get(TAG_SESSION))

    def _list_ours(self) -> list[Any]:
        """Every desktop instance of the compartment tagged with this farm, all pages."""
        found: list[Any] = []
        page: str | None = None
        while True:
            extra: dict[str, Any] = {"page": page} if page else {}
            answer = self._call(
                "ListInstances", self._compute.list_instances, self.oci.compartment_id, **extra
            )
            found += [i for i in answer.data if self._ours(i.freeform_tags)]
            page = answer.next_page
            if not page:
                return found

    def _boot_volume_of(self, instance: Any) -> str:
        """The id of the boot volume attached to ``instance``; empty while none is."""
        answer = self._call(
            "ListBootVolumeAttachments",
            self._compute.list_boot_volume_attachments,
            instance.availability_domain,
            self.oci.compartment_id,
            instance_id=instance.id,
        )
        attached = [a for a in answer.data if a.lifecycle_state in ("ATTACHING", "ATTACHED")]
        return str(attached[0].boot_volume_id) if attached else ""

    def _desktop(self, instance: Any, boot_volume_id: str) -> Desktop:
        tags = dict(instance.freeform_tags or {})
        session = tags.get(TAG_SESSION, "")
        profile = self.settings.desktop_profile(tags.get(TAG_PROFILE, ""))
        state = INSTANCE_STATES.get(instance.lifecycle_state or "", NodeState.PROVISIONING)
        return Desktop(
            id=instance.id,
            backend=self.name,
            name=instance.display_name or instance.id,
            state=DesktopState(state.value),
            session_id=int(session) if session.isdigit() else None,
            boot_volume_id=boot_volume_id,
            port=profile.display_port if profile is not None else 0,
            launched_at=instance.time_created.timestamp() if instance.time_created else 0.0,
            detail=str(instance.lifecycle_state or "").lower(),
            tags=tags,
        )


def _our_tags(tags: dict[str, str] | None) -> dict[str, str]:
    """The tags of ours a desktop's backups keep (farm, session, user, profile)."""
    keep = (TAG_FARM, TAG_SESSION, TAG_USER, TAG_PROFILE)
    return {k: v for k, v in (tags or {}).items() if k in keep}


def _volume_backup(backup: Any) -> VolumeBackup:
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
