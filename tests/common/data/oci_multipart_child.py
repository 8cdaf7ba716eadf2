"""A process that uploads one large file in parts to OCI, slowly, until the test kills it.

It goes through the real ``oci`` SDK, signed with the API key of an OCI config file, to the
endpoint the test serves. Usage::

    python -m tests.common.data.oci_multipart_child CONFIG ENDPOINT BUCKET PREFIX JOURNAL \
        FILE HASH SIZE PART_SIZE
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common.data.multipart import MultipartJournal, upload_multipart
from common.data.oci_native import OciStore, make_client
from common.data.store import PartInfo, blob_key
from common.oci_auth import AUTH_CONFIG_FILE


class SlowStore(OciStore):
    """Sends parts at a walking pace, so the test can kill the upload midway.

    It pauses before each part, so a kill soon after a part was journaled most likely finds it
    between parts, as a crash usually would.
    """

    def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> PartInfo:
        time.sleep(0.3)
        return super().put_part(key, upload_id, number, data)


def main() -> None:
    config, endpoint, bucket, prefix, journal, path, digest, size, part_size = sys.argv[1:]
    client = make_client(auth=AUTH_CONFIG_FILE, config_file=config, endpoint=endpoint)
    store = SlowStore(client, bucket, prefix=prefix)
    upload_multipart(
        store, MultipartJournal(Path(journal), store.name), blob_key(digest), Path(path), digest,
        int(size), part_size=int(part_size), workers=1,
    )  # fmt: skip


if __name__ == "__main__":
    main()
