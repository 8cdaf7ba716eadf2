"""Storage quotas per user and per show: what is used, and whether more still fits.

Used bytes are counted from what the database holds, not from the disk: stored files, deleted
ones too until the purge removes them (they still fill the disk), and the declared size of
every unfinished upload from the moment it starts (so parallel uploads cannot overshoot). A
file's show is the first folder of its path; a file at the top of the storage root has none.
"""

from __future__ import annotations

import sqlite_utils

from common.errors import QuotaExceeded
from common.limits_settings import LimitSettings
from common.models import QuotaScope, QuotaUse, StorageUsage
from daemon.storage import files as store


def show_of(path: str) -> str | None:
    """The show a stored file's path belongs to: its first folder, or None at the top."""
    show, sep, _ = path.partition("/")
    return show if sep else None


class Quotas:
    """The ``limits.storage_per_*_bytes`` quotas over the stored files' rows."""

    def __init__(self, limits: LimitSettings) -> None:
        self.limits = limits

    def usage(self, db: sqlite_utils.Database, owner: str, show: str | None) -> StorageUsage:
        """The owner's use, and the show's when one is named."""
        return StorageUsage(
            user=self._use(db, QuotaScope.USER, owner),
            show=None if show is None else self._use(db, QuotaScope.SHOW, show),
        )

    def check(self, db: sqlite_utils.Database, owner: str, path: str, adding: int) -> None:
        """Refuses when ``adding`` more bytes would take ``owner`` or the show of ``path`` past
        their quota; ``adding`` 0 checks that what is reserved still fits (a quota lowered
        since an upload started).

        Raises:
            QuotaExceeded: which quota, its figures, and what to do (413).
        """
        show = show_of(path)
        scopes = [(QuotaScope.USER, owner, self.limits.storage_per_user_bytes)]
        if show is not None:
            scopes.append((QuotaScope.SHOW, show, self.limits.storage_per_show_bytes))
        for scope, name, quota in scopes:
            if not quota:
                continue  # no quota: nothing to count (the sums scan the stored files)
            use = self._use(db, scope, name)
            if use.used_bytes + adding > quota:
                raise _exceeded(use, adding)

    def _use(self, db: sqlite_utils.Database, scope: QuotaScope, name: str) -> QuotaUse:
        if scope is QuotaScope.USER:
            used, quota = store.bytes_of_owner(db, name), self.limits.storage_per_user_bytes
        else:
            used, quota = store.bytes_under(db, name), self.limits.storage_per_show_bytes
        return QuotaUse(scope=scope, name=name, used_bytes=used, quota_bytes=quota or None)


def _exceeded(use: QuotaUse, adding: int) -> QuotaExceeded:
    who = f"User {use.name}" if use.scope is QuotaScope.USER else f"Show {use.name}"
    needs = f"this upload needs {adding:,} more" if adding else "the upload no longer fits"
    return QuotaExceeded(
        f"{who} already uses {use.used_bytes:,} of a {use.quota_bytes:,}-byte storage quota "
        f"(limits.storage_per_{use.scope}_bytes); {needs}. Delete files you no longer need "
        "(deleted files count until the purge removes them) or ask an admin to raise the "
        "quota.",
        details={
            "scope": use.scope.value, "name": use.name, "used_bytes": use.used_bytes,
            "quota_bytes": use.quota_bytes, "requested_bytes": adding,
        },
    )  # fmt: skip
