"""What every desktop backend speaks: the ``DesktopBackend`` protocol and the values it passes.

A desktop backend runs artists' desktop sessions: it launches an instance from a desktop profile
(a fresh boot volume from the image, or one restored from a boot volume backup), lists the
instances that are ours by tag, terminates them, and backs their boot volumes up (full or
incremental), deletes and archives those backups. The daemon's session service decides *when*:
it tells the desktop to end and waits its grace before ``terminate``, and it checks a backup's
state with ``backup_info`` before relying on it.

Each instance boots the desktop agent (``cloud_agent.desktop``) with its session's id, the
daemon's address and the session's secret (``DesktopLaunch.secret``): the agent reports to the
daemon and asks the daemon's broker whether a client's one-time connection token is good.

Backends: ``oci`` (``daemon.backends.oci_desktops``: OCI Compute and Block Storage through the
SDK) and ``simcloud`` (``daemon.backends.sim_desktops``: each desktop a local process, each boot
volume a folder). Their modules are imported only when asked for.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from common.config import Settings
from common.desktop_settings import DesktopProfile
from common.errors import UserFacingError
from daemon.backends.base import NodeState

#: Freeform tags on every desktop instance, boot volume and backup of ours (``TAG_FARM`` and
#: ``TAG_SESSION`` too).
TAG_USER = "cloudburst-user"
TAG_PROFILE = "cloudburst-desktop"
TAG_SNAPSHOT_KIND = "cloudburst-snapshot-kind"


#: Where a desktop instance is in its life: a cloud node's states, the same enum (a desktop is
#: an instance as a render node is, and the backends map their clouds' states onto it once).
DesktopState = NodeState


class BackupKind(enum.StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class BackupState(enum.StrEnum):
    """A boot volume backup's state (OCI's ``lifecycle_state``, ours for the simulated cloud)."""

    CREATING = "creating"
    AVAILABLE = "available"
    FAULTY = "faulty"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class DesktopLaunch:
    """A desktop to start for one session.

    ``secret`` is the session's own token, the only one its desktop agent holds: it is left out
    of ``repr`` so it never reaches a log.
    """

    session_id: int
    name: str
    """The instance's display name (``<farm>-desktop-<session id>``)."""
    profile: DesktopProfile
    user: str
    project: str
    daemon_url: str
    """The daemon as the desktop reaches it."""
    secret: str = field(repr=False)
    restore_backup_id: str | None = None
    """Boot from a new boot volume made from this backup, instead of from the image."""
    report_interval_s: float = 10.0


@dataclass(frozen=True)
class Desktop:
    """One desktop instance, as it was when described."""

    id: str
    """The backend's id (an instance OCID, ``simdesk-...``)."""
    backend: str
    name: str
    state: DesktopState
    session_id: int | None
    """From its ``cloudburst-session`` tag (None: tagged ours without one)."""
    boot_volume_id: str
    """Empty where the backend does not know it without asking (OCI's listing)."""
    host: str = ""
    """Where a client reaches its display server (a private IP); empty until known."""
    port: int = 0
    launched_at: float = 0.0
    detail: str = ""
    tags: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class VolumeBackup:
    """One boot volume backup."""

    id: str
    boot_volume_id: str
    kind: BackupKind
    state: BackupState
    created_at: float
    size_gb: float | None = None
    name: str = ""


@runtime_checkable
class DesktopBackend(Protocol):
    """Where desktops run. Implementations are thread-safe; every call may block on the cloud.

    Errors: ``daemon.backends.base.CloudError`` when the cloud failed or could not be reached
    (trying again may work), ``ConfigError`` when it refused our credentials or settings, and
    ``DesktopRefused`` (below) when it said no to this request (capacity, a limit).
    """

    name: str

    def launch(self, request: DesktopLaunch) -> Desktop:
        """Starts a desktop; returns once the instance is asked for (its agent reports later).

        With ``restore_backup_id`` the boot volume is first made from that backup (this may
        wait for it, bounded by the backend's settings)."""
        ...

    def desktops(self) -> list[Desktop]:
        """Our desktop instances that are not terminated (found by the farm's tag)."""
        ...

    def desktop(self, desktop_id: str) -> Desktop | None:
        """One desktop; None when it is unknown or terminated."""
        ...

    def terminate(self, desktop_id: str) -> None:
        """Terminates the instance and its boot volume (the backups stay). Idempotent."""
        ...

    def backup(self, desktop_id: str, kind: BackupKind, name: str) -> VolumeBackup:
        """Starts a backup of the desktop's boot volume; returns it (usually ``creating``)."""
        ...

    def backup_info(self, backup_id: str) -> VolumeBackup | None:
        """A backup's state now; None when it is unknown or deleted."""
        ...

    def delete_backup(self, backup_id: str) -> None:
        """Deletes a backup. Idempotent."""
        ...

    def archive_backup(self, backup_id: str) -> str:
        """Copies a backup to the archive (object storage); returns where it went (a URI).
        The backup itself stays: the caller deletes it once the copy is there."""
        ...

    def close(self) -> None:
        """Lets go of clients and threads. Desktops keep running, as a cloud's instances
        outlive the daemon: a daemon started again finds them (the simulated cloud adopts its
        processes)."""
        ...


class DesktopRefused(UserFacingError):
    """The cloud said no to this desktop (out of capacity, a limit reached): nothing launched.
    The message says what to do (another profile, later, ask IT for a higher limit)."""

    code = "desktop_refused"
    status = 503
    retryable = True


#: The desktop backends by name: (module, class); imported only when configured.
DESKTOP_BACKENDS: dict[str, tuple[str, str]] = {
    "simcloud": ("daemon.backends.sim_desktops", "SimDesktops"),
    "oci": ("daemon.backends.oci_desktops", "OciDesktops"),
}


def configured_desktop_backend(settings: Settings, **options: Any) -> DesktopBackend | None:
    """The backend ``[sessions] backend`` (else ``[cloud] backend``) names; None for ``none``.

    ``options`` go to the backend's constructor (SDK clients, clocks, for tests).
    """
    found = DESKTOP_BACKENDS.get(settings.desktop_backend)
    if found is None:
        return None
    module, name = found
    factory = getattr(importlib.import_module(module), name)
    backend: DesktopBackend = factory(settings, **options)
    return backend
