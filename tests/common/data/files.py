"""Files the data tests write: old enough for the hash cache to remember them."""

from __future__ import annotations

import os
from pathlib import Path

#: Studio files are old when rendered; the hash cache does not cache files written seconds ago.
OLD = 1_700_000_000


def write(path: Path, data: bytes, mtime: int = OLD) -> Path:
    """Writes a file with an old modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path
