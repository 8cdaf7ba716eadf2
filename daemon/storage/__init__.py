"""All SQL lives here; the only package that imports ``sqlite_utils``."""

from daemon.storage.db import Database, open_database

__all__ = ["Database", "open_database"]
