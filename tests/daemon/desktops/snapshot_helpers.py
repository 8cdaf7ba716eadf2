"""What the snapshot tests share: settings with a desktop profile, a session row with a running
desktop on a ``MemoryDesktops`` (written straight into ``desktop_sessions``, as the sessions
service would leave it), and a backend that refuses what a test asks it to."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from common.config import Settings
from common.desktop_settings import DesktopProfile
from daemon.backends.desktops import BackupKind, DesktopLaunch, DesktopRefused, VolumeBackup
from daemon.container import Services
from tests.daemon.desktops.memory_backend import MemoryDesktops

PROFILE = DesktopProfile(name="artist-gpu", price_per_hour=1.5)


def desktop_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", desktops=[PROFILE])


def start_session(
    services: Services,
    backend: MemoryDesktops,
    user_name: str,
    *,
    state: str = "ready",
    running: bool = True,
    profile: str = PROFILE.name,
) -> dict[str, Any]:
    """A session of ``user_name`` in ``state``; with ``running`` its desktop is launched on
    ``backend`` and booted. Returns its row."""
    user = next(u for u in services.users.list_users() if u.name == user_name)
    now = services.context.now()
    db = services.context.database
    with db.transaction() as tx:
        cursor = tx.execute(
            "INSERT INTO desktop_sessions (user_id, user_name, project, profile, backend, state,"
            " secret_hash, created_at, created_by, ends_at) VALUES (?, ?, 'show', ?, ?, ?, ?, ?,"
            " ?, ?)",
            [user.id, user_name, profile, backend.name, state,
             hashlib.sha256(secrets.token_bytes(16)).hexdigest(), now, user_name,
             now + 30 * 86400],
        )  # fmt: skip
    session_id = int(cursor.lastrowid or 0)
    if running:
        launch = DesktopLaunch(
            session_id=session_id, name=f"cloudburst-desktop-{session_id}", profile=PROFILE,
            user=user_name, project="show", daemon_url="http://127.0.0.1:1", secret="cbs_test",
        )  # fmt: skip
        desktop = backend.launch(launch)
        backend.run(desktop.id)
        with db.transaction() as tx:
            tx.execute(
                "UPDATE desktop_sessions SET instance_id = ? WHERE id = ?", [desktop.id, session_id]
            )
    row = db.db.execute("SELECT * FROM desktop_sessions WHERE id = ?", [session_id])
    names = [column[0] for column in row.description]
    return dict(zip(names, row.fetchone(), strict=True))


def snapshot_rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the snapshot tables and the desktop audit log."""
    db = services.context.database.db
    return {
        table: [tuple(row.values()) for row in db.query(f"SELECT * FROM {table} ORDER BY 1")]
        for table in ("desktop_snapshots", "snapshot_schedules", "desktop_audit")
    }


def audit(services: Services) -> list[tuple[str, str, int | None]]:
    """(actor, action, snapshot id) of every desktop audit record, oldest first."""
    db = services.context.database.db
    return [
        (row["actor"], row["action"], row["snapshot_id"])
        for row in db.query("SELECT * FROM desktop_audit ORDER BY id")
    ]


class RefusingDesktops(MemoryDesktops):
    """A ``MemoryDesktops`` whose backups or archives the cloud refuses while told to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refuse_backups = False
        self.refuse_archives = False
        self.refuse_deletes = False

    def backup(self, desktop_id: str, kind: BackupKind, name: str) -> VolumeBackup:
        if self.refuse_backups:
            raise DesktopRefused("The backup limit of this tenancy is reached: ask IT.")
        return super().backup(desktop_id, kind, name)

    def archive_backup(self, backup_id: str) -> str:
        if self.refuse_archives:
            raise DesktopRefused("No archive is configured: set [sessions.oci] archive_region.")
        return super().archive_backup(backup_id)

    def delete_backup(self, backup_id: str) -> None:
        if self.refuse_deletes:
            raise DesktopRefused("The backup is locked by a retention rule: ask IT.")
        super().delete_backup(backup_id)
