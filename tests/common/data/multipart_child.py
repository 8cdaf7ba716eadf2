"""A process that uploads one large file in parts, slowly, until the test kills it.

Usage: ``python -m tests.common.data.multipart_child ENDPOINT PREFIX JOURNAL FILE HASH SIZE``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common.data.multipart import MultipartJournal, upload_multipart
from common.data.s3 import S3Store
from common.data.store import PartInfo, blob_key
from tests.common.data.seaweed import ACCESS_KEY, BUCKET, SECRET_KEY


class SlowStore(S3Store):
    """Sends parts at a walking pace, so the test can kill the upload midway."""

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartInfo:
        part = super().put_part(key, upload_id, number, data)
        time.sleep(0.4)
        return part


def main() -> None:
    endpoint, prefix, journal, path, digest, size = sys.argv[1:]
    store = SlowStore(
        BUCKET, prefix=prefix, endpoint_url=endpoint, access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )  # fmt: skip
    upload_multipart(
        store, MultipartJournal(Path(journal), store.name), blob_key(digest), Path(path), digest,
        int(size), part_size=store.min_part_size, workers=1,
    )  # fmt: skip


if __name__ == "__main__":
    main()
