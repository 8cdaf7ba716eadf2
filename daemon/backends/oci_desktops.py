"""``OciDesktops``: artists' desktops as OCI Compute instances, their snapshots as boot volume
backups in Block Storage, through the ``oci`` SDK.

A desktop is one on-demand instance of its profile's shape in the desktops' private subnet (no
public IP: artists reach it over the studio's VPN), booted from the profile's image or from a
boot volume restored from a backup, with cloud-init user data that starts the desktop agent
(``cloud_init.desktop_cloud_config``). The instance, its VNIC, its boot volume and every backup
carry our freeform tags (farm, session, user, profile; a backup also its kind): listing by the
farm tag is how the backend finds its desktops, and nothing of another farm or person is ever
touched -- every id the daemon passes is checked to be ours before it is used. A listing leaves
``boot_volume_id`` empty (one request for all desktops, not one more each): a backup looks the
desktop's boot volume up itself.

Boot volumes and backups are ``oci_boot_volumes.BootVolumes``'s. What OCI answers and what the
backend raises (``oci_boot_volumes.DesktopCalls``):

* 500 "Out of host capacity.", 400 LimitExceeded or QuotaExceeded, and 429 TooManyRequests
  after a bounded backoff (``oci_client.Caller``) -- ``DesktopRefused``, saying what to do.
* 401 NotAuthenticated -- ``ConfigError`` naming the configuration to fix.
* 404 on terminate and delete -- nothing to do (they are idempotent).
* anything else -- ``CloudError`` with OCI's status, code and message.

What the backend itself refuses is ``DesktopRefused`` too, as every desktop backend's: a backup
of a desktop that has ended, a restore from a backup that is not of this farm or not of the
same person's desktop, a restore or an archive of a backup that is not available yet.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from common.config import Settings
from common.errors import ConfigError
from daemon.backends.base import TAG_FARM, TAG_SESSION
from daemon.backends.cloud_init import DesktopStart, encode_user_data, render_desktop_user_data
from daemon.backends.desktops import (
    TAG_PROFILE,
    TAG_SNAPSHOT_KIND,
    TAG_USER,
    BackupKind,
    Desktop,
    DesktopLaunch,
    DesktopRefused,
    DesktopState,
    VolumeBackup,
)
from daemon.backends.oci_boot_volumes import BootVolumes, DesktopCalls
from daemon.backends.oci_client import (
    Refusal,
    all_pages,
    close_client,
    make_blockstorage_client,
    make_compute_client,
)
from daemon.backends.oci_compute import STATES as INSTANCE_STATES

logger = logging.getLogger(__name__)


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
        self._blockstorage = blockstorage_client or make_blockstorage_client(
            self.oci, self.desktop_settings.blockstorage_endpoint
        )
        self._call = DesktopCalls(self.oci, sleep=sleep)
        self._boot_volumes = BootVolumes(
            self._blockstorage,
            self._call,
            compartment_id=self.oci.compartment_id,
            farm=self.farm,
            settings=self.desktop_settings,
            clock=clock,
            sleep=sleep,
        )

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
            volume_id = self._boot_volumes.restore(
                request.restore_backup_id, user=request.user, domain=domain, name=request.name,
                tags=tags,
            )  # fmt: skip
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
                self._boot_volumes.delete_volume(volume_id)
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
                found.append(self._desktop(instance))
        return found

    def desktop(self, desktop_id: str) -> Desktop | None:
        instance = self._instance(desktop_id)
        if instance is None or instance.lifecycle_state == "TERMINATED":
            return None
        return self._desktop(instance)

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
        backup = self._boot_volumes.backup(volume_id, kind, name, tags)
        logger.info("backing up desktop %s: %s backup %s", desktop_id, kind.value, backup.id)
        return backup

    def backup_info(self, backup_id: str) -> VolumeBackup | None:
        return self._boot_volumes.info(backup_id)

    def delete_backup(self, backup_id: str) -> None:
        self._boot_volumes.delete(backup_id)

    def archive_backup(self, backup_id: str) -> str:
        return self._boot_volumes.archive(backup_id)

    def close(self) -> None:
        close_client(self._compute)
        close_client(self._blockstorage)

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
        missing = [
            name for name, value in (("availability_domain", domain), ("subnet_id", subnet))
            if not value
        ]  # fmt: skip
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

    def _ours(self, tags: dict[str, str] | None) -> bool:
        tags = tags or {}
        return tags.get(TAG_FARM) == self.farm and bool(tags.get(TAG_SESSION))

    def _list_ours(self) -> list[Any]:
        """Every desktop instance of the compartment tagged with this farm, all pages."""
        listed = all_pages(
            self._call, "ListInstances", self._compute.list_instances, self.oci.compartment_id
        )
        return [i for i in listed if self._ours(i.freeform_tags)]

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

    def _desktop(self, instance: Any, boot_volume_id: str = "") -> Desktop:
        """Ours of an SDK ``Instance``; its boot volume only where already known (a restore):
        looking it up would cost a request per desktop on every pass (``backup`` does)."""
        tags = dict(instance.freeform_tags or {})
        session = tags.get(TAG_SESSION, "")
        profile = self.settings.desktop_profile(tags.get(TAG_PROFILE, ""))
        state = INSTANCE_STATES.get(instance.lifecycle_state or "", DesktopState.PROVISIONING)
        return Desktop(
            id=instance.id,
            backend=self.name,
            name=instance.display_name or instance.id,
            state=state,
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
