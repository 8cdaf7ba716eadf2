"""Job workspaces: hard links from the cache, copies across file systems, mapped scenes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from cloud_agent.cache.node_cache import NodeCache
from cloud_agent.cache.workspace import Workspace
from common.data.hashing import hash_bytes
from common.data.manifest import Manifest, ManifestEntry
from common.data.pathmap import PathMapping, PathRule, Platform

TABLE = PathMapping(
    [
        PathRule(name="studio", windows="P:\\", unc="\\\\fs01\\projects", linux="/mnt/studio"),
        PathRule(name="sim", macos="/Volumes/sim", linux="/mnt/sim"),
    ]
)
SCENE = (
    b'file -r -ns "set" "P:/show/set.ma";\nsetAttr ".ftn" -type "string" "C:/Users/me/wood.png";\n'
)


def cached(cache: NodeCache, entries: dict[str, bytes]) -> Manifest:
    rows = []
    for path, data in entries.items():
        digest = hash_bytes(data)
        temp = cache.temp_dir / digest
        temp.write_bytes(data)
        cache.add(digest, temp, len(data))
        rows.append(ManifestEntry(path=path, size=len(data), mtime_ns=0, hash=digest))
    return Manifest(entries=rows)


def test_layout_links_files_and_rewrites_scenes(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "cache", cap_bytes=1 << 20)
    manifest = cached(
        cache,
        {
            "P:\\show\\sh010.ma": SCENE,
            "\\\\fs01\\projects\\show\\set.ma": b"//Maya ASCII\n",
            "/Volumes/sim/fx/geo.0001.bgeo": b"geo",
            "C:/Users/me/wood.png": b"wood",
        },
    )
    ws = Workspace(tmp_path / "ws" / "job7", TABLE, Platform.LINUX)
    report = ws.layout(manifest, cache)
    root = ws.root
    geo = root / "sim/fx/geo.0001.bgeo"
    assert geo.read_bytes() == b"geo"
    assert geo.stat().st_ino == cache.path_of(hash_bytes(b"geo")).stat().st_ino  # a hard link
    assert (root / "_abs/C/Users/me/wood.png").read_bytes() == b"wood"
    scene = (root / "studio/show/sh010.ma").read_bytes()
    assert (
        scene
        == (
            f'file -r -ns "set" "{root}/studio/show/set.ma";\n'
            f'setAttr ".ftn" -type "string" "{root}/_abs/C/Users/me/wood.png";\n'
        ).encode()
    )
    assert cache.path_of(hash_bytes(SCENE)).read_bytes() == SCENE  # the cache is untouched
    assert (report.linked, report.copied, report.rewritten, report.paths_rewritten) == (2, 0, 2, 2)


def test_command_and_environment_point_into_the_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", TABLE, Platform.LINUX)
    assert ws.command(["maya", "-proj", "P:\\show", "--cache=/Volumes/sim/a", "-x", "rel/a"]) == [
        "maya", "-proj", f"{ws.root}/studio/show", f"--cache={ws.root}/sim/a", "-x", "rel/a",
    ]  # fmt: skip
    env = ws.environment({"TEX": "P:\\tex;\\\\fs01\\projects\\lib", "N": "4"})
    assert env == {"TEX": f"{ws.root}/studio/tex:{ws.root}/studio/lib", "N": "4"}


def test_files_are_copied_across_file_systems(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no /dev/shm to stand for a second file system")
    if os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same file system as the temporary folder")
    cache = NodeCache(tmp_path / "cache", cap_bytes=1 << 20)
    manifest = cached(cache, {"/mnt/studio/a.exr": b"pixels"})
    with tempfile.TemporaryDirectory(dir=shm) as other:
        ws = Workspace(Path(other) / "ws", TABLE, Platform.LINUX)
        report = ws.layout(manifest, cache)
        assert (report.linked, report.copied) == (0, 1)
        assert (ws.root / "studio/a.exr").read_bytes() == b"pixels"


def test_a_path_outside_the_workspace_is_refused(tmp_path: Path) -> None:
    cache = NodeCache(tmp_path / "cache", cap_bytes=1 << 20)
    manifest = cached(cache, {"relative/tex.png": b"x"})
    with pytest.raises(ValueError, match="workspace"):
        Workspace(tmp_path / "ws", TABLE, Platform.LINUX).layout(manifest, cache)
