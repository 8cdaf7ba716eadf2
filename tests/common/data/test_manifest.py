"""Manifests: built from assets and paths, per-frame entries, selection by frames, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from common.data.hash_cache import HashCache
from common.data.hashing import hash_bytes
from common.data.manifest import Manifest, ManifestEntry
from common.data.manifest_builder import ManifestBuilder
from common.host import Asset, AssetKind
from tests.common.data.files import write


@pytest.fixture
def show(tmp_path: Path) -> Path:
    root = tmp_path / "show"
    write(root / "shot.blend", b"scene")
    write(root / "tex" / "wood.png", b"wood")
    write(root / "tex" / "same_as_wood.png", b"wood")
    for frame in range(1, 11):
        write(root / "plate" / f"plate.{frame:04d}.exr", f"plate {frame}".encode())
    for frame in (1001, 1002, 1004):
        write(root / "sim" / f"geo.{frame}.bgeo", f"geo {frame}".encode())
    for tile in (1001, 1002, 1011):
        write(root / "tex" / f"skin.{tile}.tx", f"tile {tile}".encode())
    return root


def build(show: Path, tmp_path: Path) -> tuple[Manifest, ManifestBuilder]:
    builder = ManifestBuilder(HashCache(tmp_path / "hashes.sqlite3"))
    manifest = builder.build(
        [
            Asset(str(show / "tex" / "wood.png"), AssetKind.IMAGE, exists=True),
            str(show / "tex" / "same_as_wood.png"),
            Asset(str(show / "plate" / "plate.####.exr"), AssetKind.IMAGE, exists=True),
            Asset(str(show / "sim" / "geo.$F.bgeo"), AssetKind.CACHE, exists=True),
            Asset(str(show / "tex" / "skin.<UDIM>.tx"), AssetKind.IMAGE, exists=True),
            Asset(str(show / "tex" / "gone.png"), AssetKind.IMAGE, exists=False),
            Asset(str(show / "gone.####.exr"), AssetKind.IMAGE, exists=False),
        ],
        scene=str(show / "shot.blend"),
    )
    return manifest, builder


def test_builder_lists_every_file_with_size_time_hash_and_tags(show: Path, tmp_path: Path) -> None:
    manifest, builder = build(show, tmp_path)
    by_name = {Path(e.path).name: e for e in manifest.entries}
    assert len(manifest.entries) == 1 + 2 + 10 + 3 + 3
    scene = by_name["shot.blend"]
    assert (scene.kind, scene.size, scene.hash) == ("scene", 5, hash_bytes(b"scene"))
    assert scene.mtime_ns == (show / "shot.blend").stat().st_mtime_ns
    plate = by_name["plate.0007.exr"]
    assert (plate.frame, plate.tile, plate.kind) == (7, None, "image")
    assert plate.sequence == str(show / "plate" / "plate.####.exr")
    assert by_name["geo.1004.bgeo"].frame == 1004 and by_name["geo.1004.bgeo"].kind == "cache"
    assert by_name["skin.1011.tx"].tile == 1011 and by_name["skin.1011.tx"].frame is None
    assert sorted(manifest.missing) == [str(show / "gone.####.exr"), str(show / "tex/gone.png")]
    assert builder.bytes_hashed == manifest.total_size
    # two paths, one content: a transfer moves it once
    assert manifest.unique_size == manifest.total_size - 4


def test_rebuilding_an_unchanged_show_hashes_nothing(show: Path, tmp_path: Path) -> None:
    first, _ = build(show, tmp_path)
    again, builder = build(show, tmp_path)
    assert builder.bytes_hashed == 0
    assert again == first


def test_host_listed_sequence_files_are_tagged(tmp_path: Path) -> None:
    files = [write(tmp_path / f"p.{f:04d}.exr", b"%d" % f) for f in (5, 6)]
    asset = Asset(
        str(tmp_path / "p.%04d.exr"),
        AssetKind.IMAGE,
        exists=True,
        files=tuple(map(str, files)),
        missing_files=(str(tmp_path / "p.0007.exr"),),
    )
    manifest = ManifestBuilder(HashCache(None)).build([asset])
    assert [(e.frame, e.sequence) for e in manifest.entries] == [(5, asset.path), (6, asset.path)]
    assert manifest.missing == [str(tmp_path / "p.0007.exr")]


def test_a_path_only_the_dcc_evaluates_is_neither_sent_nor_missing(tmp_path: Path) -> None:
    texture = write(tmp_path / "wood.rat", b"w")
    expression = Asset('`chs("/tasks/t/sopoutput")`', AssetKind.CACHE, False, evaluated=False)
    manifest = ManifestBuilder(HashCache(None)).build(
        [expression, Asset(str(texture), AssetKind.IMAGE, True)]
    )
    assert [e.path for e in manifest.entries] == [str(texture)] and manifest.missing == []


def test_for_frames_keeps_only_what_the_frames_need(show: Path, tmp_path: Path) -> None:
    manifest, _ = build(show, tmp_path)

    def names(selection: Manifest) -> set[str]:
        return {Path(e.path).name for e in selection.entries}

    always = {"shot.blend", "wood.png", "same_as_wood.png", "skin.1001.tx", "skin.1002.tx"}
    always |= {"skin.1011.tx"}
    picked = names(manifest.for_frames([3, 4]))
    # the sim starts at 1001: frames before it hold its first frame
    assert picked == always | {"plate.0003.exr", "plate.0004.exr", "geo.1001.bgeo"}
    # frame 1003 is missing inside the sim: the reader holds 1002; past the end holds 1004
    assert names(manifest.for_frames([1003])) - always == {"plate.0010.exr", "geo.1002.bgeo"}
    assert names(manifest.for_frames([5], handles=1)) - always == {
        "plate.0004.exr",
        "plate.0005.exr",
        "plate.0006.exr",
        "geo.1001.bgeo",
    }
    assert manifest.for_frames([3]).missing == manifest.missing


def test_json_round_trip_and_strictness(show: Path, tmp_path: Path) -> None:
    manifest, _ = build(show, tmp_path)
    text = manifest.to_json()
    assert Manifest.from_json(text) == manifest
    data = json.loads(text)
    data["entries"][0]["colour"] = "red"
    with pytest.raises(ValidationError, match="colour"):
        Manifest.model_validate(data)
    data = json.loads(text)
    data["entries"][0]["hash"] = "XYZ"
    with pytest.raises(ValidationError, match="hash"):
        Manifest.from_json(json.dumps(data))
    entry = manifest.entries[0]
    with pytest.raises(ValidationError, match="twice"):
        Manifest(entries=[entry, entry])
    with pytest.raises(ValidationError):
        ManifestEntry(path="/a", size="5", mtime_ns=1, hash=entry.hash)  # type: ignore[arg-type]
