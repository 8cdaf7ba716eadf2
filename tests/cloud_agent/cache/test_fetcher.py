"""A task fetches only its frames' files, verified, into the node cache and its workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloud_agent.cache.fetcher import TaskFetcher
from cloud_agent.cache.node_cache import NodeCache
from cloud_agent.cache.workspace import Workspace
from common.data.catalog import Catalog
from common.data.errors import BlobCorrupt
from common.data.hash_cache import HashCache
from common.data.manifest import Manifest
from common.data.manifest_builder import ManifestBuilder
from common.data.pathmap import PathMapping, PathRule, Platform
from common.data.reader import BlobReader
from common.data.s3 import S3Store
from common.data.store import blob_key
from tests.common.data.files import write
from tests.common.data.transfer import uploader


def studio(tmp_path: Path) -> tuple[Path, Manifest, PathMapping]:
    root = tmp_path / "studio"
    write(root / "show/sh010.nk", f"Read {{\n file {root}/show/plate/p.####.exr\n}}\n".encode())
    write(root / "show/lut.cube", os.urandom(5000))
    write(root / "show/env.exr", os.urandom(2 * 1024 * 1024))
    for frame in range(1, 21):
        write(root / f"show/plate/p.{frame:04d}.exr", os.urandom(10_000 + frame))
    manifest = ManifestBuilder(HashCache(tmp_path / "h.sqlite3")).build(
        [str(root / "show/lut.cube"), str(root / "show/env.exr"), f"{root}/show/plate/p.####.exr"],
        scene=str(root / "show/sh010.nk"),
    )
    mapping = PathMapping([PathRule(name="studio", linux=str(root), windows="P:\\")])
    return root, manifest, mapping


def node(store: S3Store, base: Path, cap: int = 1 << 30) -> tuple[NodeCache, TaskFetcher]:
    cache = NodeCache(base / "cache", cap_bytes=cap)
    reader = BlobReader(store, Catalog(base / "catalog.sqlite3", store.name))
    return cache, TaskFetcher(cache, reader)


def test_a_task_fetches_only_its_frames(store: S3Store, tmp_path: Path) -> None:
    root, manifest, mapping = studio(tmp_path)
    uploader(store, tmp_path / "daemon").upload(manifest)
    cache, fetcher = node(store, tmp_path / "node")
    ws = Workspace(tmp_path / "node/ws/job1", mapping, Platform.LINUX)
    task = fetcher.prepare(manifest, ws, frames=[5, 6])
    needed = manifest.for_frames([5, 6])
    assert task.files == 3 + 2 and task.cache_hits == 0
    assert task.fetched is not None
    others = sum(e.size for e in manifest.entries if e.frame not in (None, 5, 6))
    assert task.bytes == needed.unique_size == manifest.unique_size - others
    assert task.fetched.bytes_received <= 1.05 * needed.unique_size  # nothing else comes
    for frame in (5, 6):
        name = f"show/plate/p.{frame:04d}.exr"
        assert (ws.root / "studio" / name).read_bytes() == (root / name).read_bytes()
    assert not (ws.root / "studio/show/plate/p.0007.exr").exists()
    assert cache.stats().files == 5
    scene = (ws.root / "studio/show/sh010.nk").read_text()
    assert f" file {ws.root}/studio/show/plate/p.####.exr\n" in scene

    # the next task on this node: only its new frames are fetched
    again = fetcher.prepare(manifest, Workspace(tmp_path / "node/ws/job1b", mapping), [6, 7])
    assert again.cache_hits == 4 and again.fetched is not None
    assert again.fetched.blobs == 1 and again.fetched.bytes == 10_007
    # and the same task twice costs no request at all
    requests = store.stats.total_requests
    fetcher.prepare(manifest, Workspace(tmp_path / "node/ws/job1c", mapping), [6, 7])
    assert store.stats.total_requests == requests


def test_a_corrupt_blob_never_reaches_the_cache_or_the_workspace(
    store: S3Store, tmp_path: Path
) -> None:
    _, manifest, mapping = studio(tmp_path)
    uploader(store, tmp_path / "daemon").upload(manifest)
    env = next(e for e in manifest.entries if e.path.endswith("env.exr"))
    store.put(blob_key(env.hash), b"\0" * env.size)  # altered in the store
    cache, fetcher = node(store, tmp_path / "node")
    ws = Workspace(tmp_path / "node/ws/job1", mapping, Platform.LINUX)
    with pytest.raises(BlobCorrupt):
        fetcher.prepare(manifest, ws, frames=[1])
    assert env.hash not in cache.present([env.hash])
    assert not (ws.root / "studio/show/env.exr").exists()
    assert list(cache.temp_dir.iterdir()) == []


def test_eviction_keeps_the_cache_under_its_cap_across_tasks(
    store: S3Store, tmp_path: Path
) -> None:
    _, manifest, mapping = studio(tmp_path)
    uploader(store, tmp_path / "daemon").upload(manifest)
    base = sum(e.size for e in manifest.for_frames([]).entries)  # scene, lut, env
    cache, fetcher = node(store, tmp_path / "node", cap=base + 4 * 10_020)
    for frame in range(1, 21, 2):
        ws = Workspace(tmp_path / f"node/ws/t{frame}", mapping, Platform.LINUX)
        fetcher.prepare(manifest, ws, frames=[frame, frame + 1])
        assert cache.stats().bytes <= cache.cap_bytes
        assert (ws.root / f"studio/show/plate/p.{frame:04d}.exr").is_file()
    first = next(e for e in manifest.entries if e.frame == 1)
    assert first.hash not in cache.present([first.hash])  # the oldest frames went
    env = next(e for e in manifest.entries if e.path.endswith("env.exr"))
    assert env.hash in cache.present([env.hash])  # used by every task: never the oldest
