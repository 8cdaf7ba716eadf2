"""An archived simulated desktop backup in the farm's object store.

The archive (a tar.gz of the backup's home) goes under ``desktop-archives/<backup id>.tar.gz``
of the ``[store]`` table's bucket and prefix, in one PUT, or in a multipart upload from
``MULTIPART_THRESHOLD`` up. Its URI names the bucket and the whole key
(``s3://bucket/prefix/desktop-archives/<id>.tar.gz``; ``oci://`` for an OCI-native store).
"""

from __future__ import annotations

from pathlib import Path

from common.data.hashing import hash_file
from common.data.multipart import MultipartJournal, upload_multipart
from common.data.store_config import StoreSettings, open_store
from common.data.uploader import MULTIPART_THRESHOLD

ARCHIVE_PREFIX = "desktop-archives/"


def archive_key(backup_id: str) -> str:
    return f"{ARCHIVE_PREFIX}{backup_id}.tar.gz"


def upload_archive(settings: StoreSettings, backup_id: str, path: Path) -> str:
    """Stores the archive file at ``path`` for ``backup_id``; returns its URI.

    Raises:
        DataError: the store refused it or could not be reached.
    """
    store = open_store(settings)
    key = archive_key(backup_id)
    size = path.stat().st_size
    if size < MULTIPART_THRESHOLD:
        store.put(key, path.read_bytes())
    else:
        journal = MultipartJournal(None, "desktop-archives")
        try:
            digest, size = hash_file(path)
            upload_multipart(store, journal, key, path, digest, size)
        finally:
            journal.close()
    return f"{settings.kind}://{settings.bucket}/{settings.prefix}{key}"
