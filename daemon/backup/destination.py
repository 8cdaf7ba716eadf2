"""Where backups go: a folder, ``s3://bucket/prefix`` or ``oci://bucket/prefix``, opened as an
``ObjectStore``.

The bucket and prefix come from the URL; the endpoint, region and credentials from the
``[backup] store`` table, else from ``[store]`` (the farm's object store is often the same
account), else the SDK's own defaults (``AWS_*`` variables, instance principals).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from pydantic import ValidationError

from common.config import Settings
from common.data.folder_store import FolderStore
from common.data.store import ObjectStore
from common.data.store_config import StoreSettings, open_store
from common.errors import InvalidInput

_SCHEMES = ("s3", "oci")


def store_settings(destination: str, settings: Settings) -> StoreSettings | None:
    """The store settings of an ``s3://`` or ``oci://`` destination; None for a folder.

    Raises:
        InvalidInput: another URL scheme, or no bucket.
    """
    url = urlparse(destination)
    if url.scheme not in _SCHEMES:
        if url.scheme and not re.match(r"^[A-Za-z]$", url.scheme) and url.scheme != "file":
            raise InvalidInput(
                f"The backup destination {destination!r} is neither a folder nor an object "
                "store: use a folder, s3://bucket/prefix or oci://bucket/prefix."
            )
        return None
    prefix = url.path.strip("/")
    connection = settings.backup.store or settings.store or StoreSettings()
    try:
        return StoreSettings.model_validate(
            {**connection.model_dump(), "kind": url.scheme, "bucket": url.netloc,
             "prefix": f"{prefix}/" if prefix else ""}
        )  # fmt: skip
    except ValidationError:
        raise InvalidInput(
            f"The backup destination {destination!r} names no usable bucket: use "
            f"{url.scheme}://bucket/prefix (a bucket of 3 characters or more)."
        ) from None


def folder_of(destination: str) -> Path:
    """The folder a folder destination names (``file://`` or a plain path), made absolute."""
    url = urlparse(destination)
    text = url.path if url.scheme == "file" else destination
    return Path(text).expanduser().absolute()


def open_destination(destination: str, settings: Settings) -> ObjectStore:
    """The store behind ``destination``; nothing is sent yet.

    Raises:
        InvalidInput: an empty or unusable destination.
    """
    if not destination.strip():
        raise InvalidInput(
            "No backup destination: give --to (a folder, s3://bucket/prefix or "
            "oci://bucket/prefix) or set destination in the [backup] table."
        )
    config = store_settings(destination, settings)
    if config is not None:
        return open_store(config)
    return FolderStore(folder_of(destination))
