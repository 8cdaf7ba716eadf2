"""``MemoryDesktops``: a ``DesktopBackend`` kept in memory, for the daemon's session and snapshot
tests. It starts nothing; it keeps what it was asked (``calls``) and the state a cloud would
have, so tests assert on what the daemon did to the cloud. ``run``/``fail_next``/``forget``
move it on as a cloud would: an instance boots, a backup finishes, a launch is refused, an
instance disappears behind the daemon's back.

The real backends (``sim_desktops``, ``oci_desktops``) have their own tests.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from daemon.backends.desktops import (
    BackupKind,
    BackupState,
    Desktop,
    DesktopLaunch,
    DesktopRefused,
    DesktopState,
    VolumeBackup,
)


class MemoryDesktops:
    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.instances: dict[str, Desktop] = {}
        self.backups: dict[str, VolumeBackup] = {}
        self.archives: dict[str, str] = {}
        self.launches: list[DesktopLaunch] = []
        self.calls: list[tuple[str, str]] = []
        """(operation, id) in order: ``launch``, ``terminate``, ``backup``, ``delete_backup``,
        ``archive_backup``."""
        self._refuse_next: str | None = None
        self.backups_finish_at_once = True

    # --- what tests do ----------------------------------------------------------------------

    def refuse_next_launch(self, message: str = "Out of host capacity.") -> None:
        self._refuse_next = message

    def run(self, desktop_id: str, host: str = "10.0.0.7", port: int = 8443) -> None:
        """The instance has booted."""
        with self._lock:
            self.instances[desktop_id] = replace(
                self.instances[desktop_id], state=DesktopState.RUNNING, host=host, port=port
            )

    def forget(self, desktop_id: str) -> None:
        """The instance is gone without the daemon asking (reclaimed, deleted by hand)."""
        with self._lock:
            self.instances.pop(desktop_id, None)

    def finish_backup(self, backup_id: str, state: BackupState = BackupState.AVAILABLE) -> None:
        with self._lock:
            self.backups[backup_id] = replace(self.backups[backup_id], state=state)

    # --- DesktopBackend ---------------------------------------------------------------------

    def launch(self, request: DesktopLaunch) -> Desktop:
        with self._lock:
            if self._refuse_next is not None:
                message, self._refuse_next = self._refuse_next, None
                raise DesktopRefused(message)
            if request.restore_backup_id is not None:
                backup = self.backups.get(request.restore_backup_id)
                if backup is None or backup.state is not BackupState.AVAILABLE:
                    raise DesktopRefused(f"Backup {request.restore_backup_id} is not available.")
            number = next(self._ids)
            desktop = Desktop(
                id=f"memdesk-{number}",
                backend=self.name,
                name=request.name,
                state=DesktopState.PROVISIONING,
                session_id=request.session_id,
                boot_volume_id=f"memvol-{number}",
                launched_at=self._clock(),
            )
            self.instances[desktop.id] = desktop
            self.launches.append(request)
            self.calls.append(("launch", desktop.id))
            return desktop

    def desktops(self) -> list[Desktop]:
        with self._lock:
            return [d for d in self.instances.values() if d.state is not DesktopState.TERMINATED]

    def desktop(self, desktop_id: str) -> Desktop | None:
        with self._lock:
            found = self.instances.get(desktop_id)
        return None if found is None or found.state is DesktopState.TERMINATED else found

    def terminate(self, desktop_id: str) -> None:
        with self._lock:
            self.calls.append(("terminate", desktop_id))
            found = self.instances.get(desktop_id)
            if found is not None:
                self.instances[desktop_id] = replace(found, state=DesktopState.TERMINATED)

    def backup(self, desktop_id: str, kind: BackupKind, name: str) -> VolumeBackup:
        with self._lock:
            desktop = self.instances.get(desktop_id)
            if desktop is None or desktop.state is DesktopState.TERMINATED:
                raise DesktopRefused(f"Desktop {desktop_id} is gone: its boot volume is too.")
            backup = VolumeBackup(
                id=f"membackup-{next(self._ids)}",
                boot_volume_id=desktop.boot_volume_id,
                kind=kind,
                state=BackupState.AVAILABLE
                if self.backups_finish_at_once
                else BackupState.CREATING,
                created_at=self._clock(),
                size_gb=12.5,
                name=name,
            )
            self.backups[backup.id] = backup
            self.calls.append(("backup", backup.id))
            return backup

    def backup_info(self, backup_id: str) -> VolumeBackup | None:
        with self._lock:
            found = self.backups.get(backup_id)
        return None if found is None or found.state is BackupState.TERMINATED else found

    def delete_backup(self, backup_id: str) -> None:
        with self._lock:
            self.calls.append(("delete_backup", backup_id))
            found = self.backups.get(backup_id)
            if found is not None:
                self.backups[backup_id] = replace(found, state=BackupState.TERMINATED)

    def archive_backup(self, backup_id: str) -> str:
        with self._lock:
            if backup_id not in self.backups:
                raise DesktopRefused(f"Backup {backup_id} is unknown.")
            self.calls.append(("archive_backup", backup_id))
            uri = f"memory://archive/{backup_id}"
            self.archives[backup_id] = uri
            return uri

    def close(self) -> None:
        return None
