"""The daemon's data disk: how much is free, whether to warn, and a full disk in an error.

``assess`` and ``warning`` are the pure rule (free space against ``monitoring.disk_warn_fraction``
and ``monitoring.disk_warn_bytes``, whichever is larger); ``DiskWatch`` measures the data folder
for ``/health``, ``/metrics`` and the dashboard's banner; ``disk_full_cause`` finds a full disk
(SQLite's ``SQLITE_FULL``, ``ENOSPC``, ``EDQUOT``) in an exception's chain, so the API answers
507 ``disk_full`` rather than 500.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.models import DiskSpace
from daemon.context import Context

GIB = 1024**3

#: Errors of the operating system that mean the disk (or the user's quota on it) is full.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

DISK_FULL_MESSAGE = (
    "The daemon's disk is full, so nothing of this request was saved. Ask IT to free space on "
    "the daemon's data disk, then send it again."
)


def assess(free: int, total: int, warn_fraction: float, warn_bytes: int) -> DiskSpace:
    """The disk as ``/health`` shows it: low below ``warn_fraction`` of ``total`` or below
    ``warn_bytes``, whichever is larger."""
    threshold = max(float(warn_bytes), warn_fraction * total)
    return DiskSpace(
        free_bytes=free,
        total_bytes=total,
        free_fraction=round(free / total, 4) if total > 0 else 0.0,
        low=free < threshold,
    )


def warning(disk: DiskSpace) -> str | None:
    """The sentence a person reads when the disk is low; None when it is not."""
    if not disk.low:
        return None
    return (
        f"The daemon's data disk has {disk.free_bytes / GIB:.1f} GiB free "
        f"({disk.free_fraction:.1%}). Free space on it soon: when it is full, submissions and "
        "agents' updates are refused until space comes back."
    )


def disk_full_cause(exc: BaseException) -> BaseException | None:
    """The error in ``exc``'s chain (itself, its cause, its context) that says the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
                return current
        elif isinstance(current, OSError) and current.errno in FULL_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None


Usage = Callable[[Path], Any]
"""``shutil.disk_usage``: a path's disk as ``(total, used, free)`` with those attributes."""


class DiskWatch:
    """Measures the disk of the data folder (any thread; a ``statvfs`` per call)."""

    def __init__(self, context: Context, usage: Usage = shutil.disk_usage) -> None:
        self.ctx = context
        self._usage = usage

    def space(self) -> DiskSpace:
        folder = Path(self.ctx.settings.data_dir).absolute()
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # not made yet: its disk is the nearest folder's
        usage = self._usage(folder)
        settings = self.ctx.settings.monitoring
        return assess(
            int(usage.free), int(usage.total), settings.disk_warn_fraction,
            settings.disk_warn_bytes,
        )  # fmt: skip

    def warning(self) -> str | None:
        """The low-disk sentence for the dashboard's banner, or None."""
        return warning(self.space())
