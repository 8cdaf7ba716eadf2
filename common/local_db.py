"""Small local SQLite files of the client side: caches, catalogs and journals."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_local_db(path: Path | None) -> sqlite3.Connection:
    """Opens (creating its folder) a SQLite file shared by threads and processes, in WAL mode.

    Args:
        path: the file; None gives a database in memory, private to the connection.

    Callers serialise their own use of the connection across threads.
    """
    if path is None:
        return sqlite3.connect(":memory:", check_same_thread=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection
