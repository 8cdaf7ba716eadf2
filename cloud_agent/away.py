"""Rendering away from studio storage: a task's files come from the object store, its frames go
back there.

An agent with ``studio_access = false`` (a cloud node) takes only tasks of staged jobs. For each
one, ``AwayData.prepare`` asks the daemon for the task's share of the job's manifest, fetches
what the node cache lacks (verified, in parallel), lays out a workspace of hard links in which
the studio paths resolve through the farm's path table, writes the path map that binary scenes
are repointed with (``cloud_agent.runners.path_map_file``), and gives the runner an assignment
whose scene, output and environment point into the workspace. As frames appear in the
workspace's output folder they are uploaded under their hash on a background thread
(``AwayTask.collect``); ``finish`` waits for the last one and names each frame by its studio
path, for the daemon to bring home.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from cloud_agent.cache import NodeCache, TaskFetcher, Workspace
from cloud_agent.runners.path_map_file import PATH_MAP_ENV, write_workspace_path_map
from common.config import Settings
from common.data.catalog import Catalog
from common.data.hashing import hash_bytes
from common.data.outputs import output_folder, studio_frame_path
from common.data.pathmap import PathMapping
from common.data.reader import BlobReader
from common.data.store import ObjectStore, blob_key
from common.data.store_config import open_store
from common.data.task_data import TaskData
from common.errors import CloudburstError, ConfigError, RenderError
from common.models import OutputBlob, TaskAssignment

logger = logging.getLogger(__name__)

#: Frames uploaded at once.
UPLOAD_WORKERS = 4


class TaskDataSource(Protocol):
    """The daemon call ``AwayData`` needs (``DaemonClient.task_data``)."""

    def task_data(self, agent_id: str, task_id: int) -> TaskData: ...


class AwayData:
    """This node's store, node cache and fetcher, shared by its tasks. One per agent process."""

    def __init__(self, store: ObjectStore, cache: NodeCache, catalog: Catalog) -> None:
        self.store = store
        self.cache = cache
        self.fetcher = TaskFetcher(cache, BlobReader(store, catalog))
        self.work_dir = cache.root / "work"

    @classmethod
    def from_settings(cls, settings: Settings, state_dir: Path) -> AwayData:
        """The node's data plane as configured.

        Raises:
            ConfigError: no ``[store]`` table is configured.
        """
        if settings.store is None:
            raise ConfigError(
                "This agent has no access to studio storage (studio_access = false) but no "
                "object store is configured: add the [store] table (or CLOUDBURST_STORE__*)."
            )
        store = open_store(settings.store)
        cache_dir = settings.node_cache_dir or settings.data_dir / "node-cache"
        cache = NodeCache(cache_dir, int(settings.node_cache_gb * 1024**3))
        return cls(store, cache, Catalog(state_dir / "catalog.sqlite3", store.name))

    def prepare(
        self, assignment: TaskAssignment, agent_id: str, daemon: TaskDataSource
    ) -> AwayTask:
        """Gets the task's files into a workspace; returns the task as the runner sees it.

        Raises:
            RenderError: the files cannot be had (the message says why); nothing was rendered.
        """
        try:
            data = daemon.task_data(agent_id, assignment.task_id)
        except CloudburstError as exc:
            raise RenderError(f"Cannot get the task's file list: {exc.message}") from exc
        if data.store != self.store.name:
            raise RenderError(
                f"The job's files were staged to {data.store}, but this node reads "
                f"{self.store.name}; fix the node's [store] settings."
            )
        mapping = PathMapping(data.path_rules)
        root = self.work_dir / f"{assignment.task_id}-{assignment.attempt}"
        shutil.rmtree(root, ignore_errors=True)  # left by a killed agent
        workspace = Workspace(root, mapping)
        try:
            prepared = self.fetcher.prepare(data.manifest, workspace)
        except (CloudburstError, OSError) as exc:
            workspace.remove()
            message = getattr(exc, "message", None) or str(exc)
            raise RenderError(
                f"Cannot get the task's files from {self.store.name}: {message}"
            ) from exc
        map_file = write_workspace_path_map(
            workspace, mapping, (entry.path for entry in data.manifest.entries), assignment.scene
        )
        env = workspace.environment(assignment.env)
        env[PATH_MAP_ENV] = map_file
        local = assignment.model_copy(
            update={
                "scene": workspace.local_path(assignment.scene),
                "output": _local_output(workspace, assignment),
                "env": env,
            }
        )
        logger.info(
            "task %s: %d file(s) ready in %s (%d from the cache)",
            assignment.task_id, prepared.files, root, prepared.cache_hits,
        )  # fmt: skip
        return AwayTask(self.store, workspace, assignment, local)


class AwayTask:
    """One task's workspace and the upload of its frames. Main thread, plus upload threads."""

    def __init__(
        self,
        store: ObjectStore,
        workspace: Workspace,
        studio: TaskAssignment,
        local: TaskAssignment,
    ) -> None:
        self.store = store
        self.workspace = workspace
        self.studio = studio
        """The assignment as leased (studio paths)."""
        self.local = local
        """The assignment the runner gets (workspace paths)."""
        self._pool = ThreadPoolExecutor(UPLOAD_WORKERS, thread_name_prefix="frame-upload")
        self._lock = threading.Lock()
        self._uploads: dict[str, Future[OutputBlob]] = {}
        self.output_dir = output_folder(local.output, local.scene)
        self._before = set(_files_in(self.output_dir))
        """Files in the output folder before the render (inputs that live there)."""

    def collect_new(self) -> None:
        """Starts uploading files the render put in the output folder since the last look."""
        self.collect([p for p in _files_in(self.output_dir) if p not in self._before])

    def collect(self, outputs: list[str]) -> None:
        """Starts uploading frames not sent yet (files in their final place). Main thread."""
        for path in outputs:
            with self._lock:
                if path in self._uploads or not os.path.isfile(path):
                    continue
                self._uploads[path] = self._pool.submit(self._upload, path)

    def finish(self, outputs: list[str]) -> tuple[list[str], list[OutputBlob]]:
        """Uploads what is left and waits; the frames' studio paths and blobs.

        Raises:
            RenderError: a frame could not be uploaded.
        """
        self.collect(outputs)
        blobs: list[OutputBlob] = []
        for path in outputs:
            try:
                blobs.append(self._uploads[path].result())
            except (CloudburstError, OSError) as exc:
                message = getattr(exc, "message", None) or str(exc)
                raise RenderError(
                    f"Cannot send frame {path} to {self.store.name}: {message}"
                ) from exc
        return [blob.path for blob in blobs], blobs

    def cleanup(self) -> None:
        """Stops uploads not started and removes the workspace (the cache keeps the files)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.workspace.remove()

    def _upload(self, path: str) -> OutputBlob:
        data = Path(path).read_bytes()
        digest = hash_bytes(data)
        self.store.put(blob_key(digest), data)
        studio = studio_frame_path(self.studio.output, self.studio.scene, os.path.basename(path))
        logger.info("task %s: frame %s sent (%d bytes)", self.studio.task_id, studio, len(data))
        return OutputBlob(path=studio, hash=digest, size=len(data))


def _files_in(folder: str) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [entry.path for entry in entries if entry.is_file(follow_symlinks=False)]
    except OSError:
        return []


def _local_output(workspace: Workspace, assignment: TaskAssignment) -> str:
    """The output pattern in the workspace (``//`` stays relative to the workspace's scene)."""
    output = assignment.output
    if output.startswith("//"):
        return output
    local = workspace.local_path(output)
    if output.endswith(("/", "\\")) and not local.endswith(os.sep):
        local += os.sep
    return local
