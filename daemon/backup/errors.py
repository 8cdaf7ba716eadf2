"""The errors of backups and restores; each message says what to do next."""

from __future__ import annotations

from common.errors import Conflict, NotFound, UserFacingError


class BackupsOff(NotFound):
    """The daemon has no backup destination."""

    code = "backups_off"


class BackupNotFound(NotFound):
    """No finished backup of that id (or none at all) at the destination."""

    code = "backup_not_found"


class BackupDamaged(UserFacingError):
    """A backup's bytes or manifest do not match what was written: it must not be used."""

    code = "backup_damaged"
    status = 422


class RestoreTargetNotEmpty(Conflict):
    """A restore was asked to write into a folder that already holds something."""

    code = "restore_target_not_empty"
