"""The daemon's side of just-in-time data: its object store, hash cache and catalog, opened once
and shared by staging (files out) and the homecoming of frames (files in).

Everything opens lazily: a daemon without a ``[store]`` table never imports boto3 or the OCI
SDK. The daemon reads studio paths in its own platform's form through the farm's path table
(``[[path_rules]]``): a job submitted from Windows as ``P:/show/a.blend`` is read at
``/mnt/studio/show/a.blend`` on a Linux daemon.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from common.config import Settings
from common.data.pathmap import PathMapping, current_platform

if TYPE_CHECKING:
    from common.data.manifest import Manifest
    from common.data.reader import BlobReader, FetchReport
    from common.data.store import ObjectStore
    from common.data.uploader import Uploader, UploadReport

logger = logging.getLogger(__name__)

StoreFactory = Callable[[], "ObjectStore"]


class DataPlane:
    """The store and its local bookkeeping, for one daemon. Thread-safe."""

    def __init__(self, settings: Settings, open_store: StoreFactory | None = None) -> None:
        """Names what to open; nothing is opened before first use.

        Args:
            settings: the daemon's settings (``store``, ``staging``, ``path_rules``, data dir).
            open_store: makes the store (tests); ``common.data.open_store`` of the settings
                when None.
        """
        self.settings = settings
        self._open_store = open_store
        self.mapping = PathMapping(settings.path_rules)
        self.platform = current_platform()
        self.folder = settings.data_dir / "data"
        self._lock = threading.Lock()
        self._store: ObjectStore | None = None
        self._uploader: Uploader | None = None
        self._reader: BlobReader | None = None
        self._hash_cache_path = self.folder / "hash-cache.sqlite3"

    @property
    def configured(self) -> bool:
        """Whether there is an object store to stage to."""
        return self.settings.store is not None or self._open_store is not None

    @property
    def store(self) -> ObjectStore:
        with self._lock:
            if self._store is None:
                self._store = self._make_store()
            return self._store

    @property
    def store_name(self) -> str:
        return self.store.name

    def local_path(self, studio_path: str) -> str:
        """Where this daemon reads a studio path (mapped to its platform when a rule covers it)."""
        return self.mapping.map(studio_path, self.platform) or studio_path

    # --- out -----------------------------------------------------------------------------------

    def build_manifest(self, scene: str, env: Mapping[str, str]) -> Manifest:
        """The manifest of a scene and every file it names, read with the offline readers.

        Raises:
            InvalidInput: the scene cannot be read (unknown kind, missing, not what it says).
        """
        from common.data.hash_cache import HashCache
        from common.data.manifest_builder import ManifestBuilder
        from common.scene_readers.plugins import reader_for

        local_scene = self.local_path(scene)
        report = reader_for(Path(local_scene))(local_scene, dict(env) or None)
        self.folder.mkdir(parents=True, exist_ok=True)
        with HashCache(self._hash_cache_path) as cache:
            builder = ManifestBuilder(
                cache, resolve=self.local_path, workers=self.settings.staging.workers
            )
            return builder.build(report.dependencies, scene=scene)

    def upload(self, manifest: Manifest) -> UploadReport:
        """Sends the blobs of ``manifest`` the store lacks."""
        return self._get_uploader().upload(manifest, self.local_path)

    # --- in ------------------------------------------------------------------------------------

    def fetch(
        self, sizes: Mapping[str, int], temp_dir: Path, accept: Callable[[str, Path], object]
    ) -> FetchReport:
        """Reads blobs into ``temp_dir``, each verified before ``accept`` gets it."""
        return self._get_reader().fetch(sizes, temp_dir, accept)

    # --- helpers -------------------------------------------------------------------------------

    def _make_store(self) -> ObjectStore:
        if self._open_store is not None:
            return self._open_store()
        from common.data.store_config import open_store

        assert self.settings.store is not None
        return open_store(self.settings.store)

    def _get_uploader(self) -> Uploader:
        from common.data.catalog import Catalog
        from common.data.multipart import MultipartJournal
        from common.data.uploader import Uploader

        store = self.store
        with self._lock:
            if self._uploader is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._uploader = Uploader(
                    store,
                    Catalog(self.folder / "catalog.sqlite3", store.name),
                    MultipartJournal(self.folder / "multipart.sqlite3", store.name),
                    workers=self.settings.staging.workers,
                )
            return self._uploader

    def _get_reader(self) -> BlobReader:
        from common.data.catalog import Catalog
        from common.data.reader import BlobReader

        store = self.store
        with self._lock:
            if self._reader is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._reader = BlobReader(
                    store,
                    Catalog(self.folder / "catalog.sqlite3", store.name),
                    workers=self.settings.staging.workers,
                )
            return self._reader
