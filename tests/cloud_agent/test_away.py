"""A node without studio storage: a task's files come from a real object store (SeaweedFS) into
a workspace, and its frames go back there under their hash."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cloud_agent.away import AwayData
from cloud_agent.cache import NodeCache
from cloud_agent.runners.path_map_file import PATH_MAP_ENV
from common.data.catalog import Catalog
from common.data.hash_cache import HashCache
from common.data.hashing import hash_bytes
from common.data.manifest_builder import ManifestBuilder
from common.data.multipart import MultipartJournal
from common.data.pathmap import PathRule
from common.data.s3 import S3Store
from common.data.store import blob_key
from common.data.task_data import TaskData
from common.data.uploader import Uploader
from common.errors import RenderError
from common.models import TaskAssignment

OLD = 1_700_000_000


class Daemon:
    """Answers ``task_data`` as the daemon would, from a manifest built here."""

    def __init__(self, data: TaskData) -> None:
        self.data = data
        self.asked: list[tuple[str, int]] = []

    def task_data(self, agent_id: str, task_id: int) -> TaskData:
        self.asked.append((agent_id, task_id))
        return self.data


@pytest.fixture
def store(weed: object) -> S3Store:
    return weed.store()  # type: ignore[attr-defined, no-any-return]


def studio_tree(root: Path) -> tuple[Path, list[Path]]:
    files = {
        "show/shots/sh010.ma": b'createNode file -n "f";\n',
        "show/tex/wood.png": b"w" * 5000,
        "show/cache/fx.0001.bgeo": b"1" * 300,
        "show/cache/fx.0002.bgeo": b"2" * 300,
    }
    paths = []
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (OLD, OLD))
        paths.append(path)
    return root / "show/shots/sh010.ma", paths


def staged(tmp_path: Path, store: S3Store) -> tuple[TaskData, Path]:
    studio = tmp_path / "mnt" / "studio"
    scene, _ = studio_tree(studio)
    deps = [str(studio / "show/tex/wood.png"), str(studio / "show/cache/fx.####.bgeo")]
    manifest = ManifestBuilder(HashCache(None)).build(deps, scene=str(scene))
    Uploader(store, Catalog(None, store.name), MultipartJournal(None, store.name)).upload(manifest)
    rules = [PathRule(name="studio", linux=str(studio), windows="S:\\")]
    data = TaskData(job_id=7, task_id=3, scene=str(scene), manifest=manifest.for_frames([2]),
                    path_rules=rules, store=store.name)  # fmt: skip
    return data, studio


def assignment(studio: Path, **changes: object) -> TaskAssignment:
    values: dict[str, object] = {
        "task_id": 3, "job_id": 7, "attempt": 1, "frames": [2], "dcc": "maya",
        "renderer": "", "scene": str(studio / "show/shots/sh010.ma"),
        "output": str(studio / "show/renders/sh010.####.exr"), "output_format": "",
        "env": {"TEXTURES": str(studio / "show/tex")}, "timeout_s": None,
        "lease_expires_at": "2030-01-01T00:00:00Z",
    }  # fmt: skip
    values.update(changes)
    return TaskAssignment.model_validate(values, strict=False)


def node(tmp_path: Path, store: S3Store) -> AwayData:
    cache = NodeCache(tmp_path / "node" / "cache", 10**9)
    return AwayData(store, cache, Catalog(None, store.name))


def test_a_task_renders_from_a_workspace_that_never_touches_studio_storage(
    tmp_path: Path, store: S3Store
) -> None:
    data, studio = staged(tmp_path, store)
    shutil.rmtree(studio / "show/tex")  # the node cannot see studio storage: prove it
    (studio / "show/cache/fx.0002.bgeo").unlink()
    away = node(tmp_path, store)
    daemon = Daemon(data)
    task = away.prepare(assignment(studio), "agent-1", daemon)
    try:
        assert daemon.asked == [("agent-1", 3)]
        root = task.workspace.root
        assert task.local.scene == str(root / "studio/show/shots/sh010.ma")
        assert task.local.output == str(root / "studio/show/renders/sh010.####.exr")
        assert task.local.env["TEXTURES"] == str(root / "studio/show/tex")
        assert Path(root / "studio/show/tex/wood.png").read_bytes() == b"w" * 5000
        assert Path(root / "studio/show/cache/fx.0002.bgeo").read_bytes() == b"2" * 300
        assert not (root / "studio/show/cache/fx.0001.bgeo").exists()  # not this task's frame
        path_map = json.loads(Path(task.local.env[PATH_MAP_ENV]).read_text())
        assert path_map["scene"] == str(studio / "show/shots/sh010.ma")
        assert path_map["files"][str(studio / "show/tex/wood.png")] == str(
            root / "studio/show/tex/wood.png"
        )

        # The render writes a frame: it leaves as soon as it is collected, named for studio.
        out = root / "studio/show/renders"
        out.mkdir(parents=True)
        (out / "sh010.0002.exr").write_bytes(b"pixels" * 100)
        task.collect_new()
        outputs, blobs = task.finish([str(out / "sh010.0002.exr")])
        assert outputs == [str(studio / "show/renders/sh010.0002.exr")]
        assert blobs[0].hash == hash_bytes(b"pixels" * 100) and blobs[0].size == 600
        assert b"".join(store.get(blob_key(blobs[0].hash))) == b"pixels" * 100
    finally:
        task.cleanup()
    assert not task.workspace.root.exists()


def test_a_node_reading_another_store_refuses_the_task(tmp_path: Path, store: S3Store) -> None:
    data, studio = staged(tmp_path, store)
    wrong = data.model_copy(update={"store": "s3://elsewhere/bucket/"})
    with pytest.raises(RenderError, match="staged to s3://elsewhere"):
        node(tmp_path, store).prepare(assignment(studio), "a", Daemon(wrong))


def test_files_the_store_lost_fail_the_task_before_any_render(
    tmp_path: Path, store: S3Store
) -> None:
    data, studio = staged(tmp_path, store)
    store.delete([o.key for o in store.list_objects("")])
    with pytest.raises(RenderError, match="Cannot get the task's files"):
        node(tmp_path, store).prepare(assignment(studio), "a", Daemon(data))
    work = tmp_path / "node/cache/work"
    assert not work.exists() or list(work.iterdir()) == []  # no workspace left behind
