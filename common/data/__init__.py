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
"""

from __future__ import annotations

from common.data.catalog import BlobLocation, Catalog
from common.data.errors import (
    BlobCorrupt,
    BlobMissing,
    DataError,
    SourceChanged,
    StoreAccessDenied,
    StoreUnavailable,
    UploadGone,
)
from common.data.hash_cache import HashCache
from common.data.hashing import HASH_ALGORITHM, hash_bytes, hash_file
from common.data.manifest import Manifest, ManifestEntry
from common.data.manifest_builder import ManifestBuilder
from common.data.multipart import MultipartJournal, upload_multipart
from common.data.pathmap import PathMapping, PathRule, Platform
from common.data.reader import BlobReader, FetchReport
from common.data.store import ObjectInfo, ObjectStore, PartInfo, TransferStats, blob_key
from common.data.store_config import StoreSettings, open_store
from common.data.uploader import Uploader, UploadReport

__all__ = [
    "HASH_ALGORITHM",
    "BlobCorrupt",
    "BlobLocation",
    "BlobMissing",
    "BlobReader",
    "Catalog",
    "DataError",
    "FetchReport",
    "HashCache",
    "Manifest",
    "ManifestBuilder",
    "ManifestEntry",
    "MultipartJournal",
    "ObjectInfo",
    "ObjectStore",
    "PartInfo",
    "PathMapping",
    "PathRule",
    "Platform",
    "SourceChanged",
    "StoreAccessDenied",
    "StoreSettings",
    "StoreUnavailable",
    "TransferStats",
    "UploadGone",
    "UploadReport",
    "Uploader",
    "blob_key",
    "hash_bytes",
    "hash_file",
    "open_store",
    "upload_multipart",
]
