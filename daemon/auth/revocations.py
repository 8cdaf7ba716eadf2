"""The mark by which every process of a daemon learns that a credential was revoked.

The daemon may serve from several processes over one data folder, and ``cloudburst user``
changes accounts from yet another; each keeps its own cache of checked tokens
(``token_cache.py``). A revocation, once committed, grows the file ``auth-revocations`` in the
data folder by one byte; a process that finds the file changed since it last looked drops its
whole cache before it answers. One ``stat`` per request is all it costs. The file only grows
(a few bytes a day), so a change is never missed by comparing its identity, size and time.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

REVOCATIONS_FILE = "auth-revocations"

Stamp = tuple[int, int, int] | None
"""What a process remembers of the file: inode, size and change time (None: no file yet)."""


class RevocationMark:
    """The ``auth-revocations`` file of one data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / REVOCATIONS_FILE

    def stamp(self) -> Stamp:
        """The file as it is now.

        Raises:
            OSError: the file cannot be looked at (the caller keeps nothing then).
        """
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    def mark(self) -> None:
        """Tells the other processes (called after the revocation committed). A file that
        cannot be written is logged: the other processes then learn within the cache's TTL."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, b".")
            finally:
                os.close(fd)
        except OSError as exc:
            logger.warning(
                "Could not mark a revocation in %s (%s): other daemon processes accept the "
                "revoked token until their cache entry ends ([auth] token_cache_ttl_s).",
                self.path, exc,
            )  # fmt: skip
