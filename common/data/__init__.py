"""Just-in-time data: manifests, content-addressed object storage, verified transfers,
path mapping.

Needs the ``data`` extra (``xxhash``, ``boto3``); the OCI native back end needs the ``oci``
extra. Nothing here is imported by ``common`` itself, so DCC panels do not need either.

* ``ManifestBuilder`` / ``Manifest``: a job's files with size, time and xxh3-128 hash,
  sequences per frame (``Manifest.for_frames``); ``HashCache`` skips unchanged files.
* ``ObjectStore`` with ``S3Store`` and ``OciStore``; ``open_store(StoreSettings)``.
* ``Uploader``: sends only missing blobs (small ones in packs, large ones in resumable multipart
  uploads); ``BlobReader``: verified downloads; ``Catalog``: where each blob is.
* ``PathMapping``: Windows, UNC, Linux and macOS roots, for paths, command lines, environments;
  ``scene_text.rewrite_file`` for ``.ma``, ``.nk`` and ``.usda`` files.

Names are imported on first use (``common.data.Manifest`` loads ``common.data.manifest``
only), so light modules such as ``store_config`` and ``pathmap`` need neither ``xxhash`` nor
``boto3``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BlobCorrupt": "common.data.errors",
    "BlobLocation": "common.data.catalog",
    "BlobMissing": "common.data.errors",
    "BlobReader": "common.data.reader",
    "Catalog": "common.data.catalog",
    "DataError": "common.data.errors",
    "FetchReport": "common.data.reader",
    "HASH_ALGORITHM": "common.data.hashing",
    "HashCache": "common.data.hash_cache",
    "Manifest": "common.data.manifest",
    "ManifestBuilder": "common.data.manifest_builder",
    "ManifestEntry": "common.data.manifest",
    "MultipartJournal": "common.data.multipart",
    "ObjectInfo": "common.data.store",
    "ObjectStore": "common.data.store",
    "PartInfo": "common.data.store",
    "PathMapping": "common.data.pathmap",
    "PathRule": "common.data.pathmap",
    "Platform": "common.data.pathmap",
    "SourceChanged": "common.data.errors",
    "StoreAccessDenied": "common.data.errors",
    "StoreSettings": "common.data.store_config",
    "StoreUnavailable": "common.data.errors",
    "TransferStats": "common.data.store",
    "UploadGone": "common.data.errors",
    "UploadReport": "common.data.uploader",
    "Uploader": "common.data.uploader",
    "blob_key": "common.data.store",
    "hash_bytes": "common.data.hashing",
    "hash_file": "common.data.hashing",
    "open_store": "common.data.store_config",
    "upload_multipart": "common.data.multipart",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
