"""Frame and tile tokens, and what a path means on disk; ``read_scene`` picks the reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import InvalidInput
from common.host import AssetKind
from common.scene_readers import read_scene, supported_extensions
from common.scene_readers.sequences import (
    dependency,
    evaluated_dependency,
    frame_path,
    has_frame_token,
    is_windows_path,
    output,
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("/r/a.####.exr", "/r/a.0007.exr"),
        ("/r/a.#.exr", "/r/a.7.exr"),
        ("/r/a.%04d.exr", "/r/a.0007.exr"),
        ("/r/a.%d.exr", "/r/a.7.exr"),
        ("/r/a.$F4.exr", "/r/a.0007.exr"),
        ("/r/a.${F3}.exr", "/r/a.007.exr"),
        ("/r/a.$F.bgeo.sc", "/r/a.7.bgeo.sc"),
        ("/r/a.<f>.png", "/r/a.7.png"),
        ("/r/$FPS/a.exr", "/r/$FPS/a.exr"),  # $FPS is not the frame
    ],
)
def test_frame_tokens(pattern: str, expected: str) -> None:
    assert frame_path(pattern, 7) == expected
    assert has_frame_token(pattern) == (pattern != expected)


def test_negative_frames_keep_their_padding() -> None:
    assert frame_path("a.####.exr", -5) == "a.-005.exr"


@pytest.mark.parametrize(
    ("path", "windows"),
    [("C:/plates/a.exr", True), ("d:\\x", True), ("\\\\server\\share\\a", True),
     ("//server/share/a", True), ("/mnt/c/a", False), ("relative/a", False)],
)  # fmt: skip
def test_windows_paths(path: str, windows: bool) -> None:
    assert is_windows_path(path) is windows


def test_a_sequence_lists_existing_and_missing_frames(tmp_path: Path) -> None:
    for frame in (1, 3):
        (tmp_path / f"a.{frame:04d}.exr").write_bytes(b"12345")
    asset = dependency(str(tmp_path / "a.####.exr"), AssetKind.IMAGE, frames=[1, 2, 3], source="s")
    assert not asset.exists and asset.size == 10
    assert [Path(f).name for f in asset.files] == ["a.0001.exr", "a.0003.exr"]
    assert asset.missing_files == (str(tmp_path / "a.0002.exr"),)


def test_udim_and_uvtile_sets(tmp_path: Path) -> None:
    for name in ("c.1001.exr", "c.1012.exr", "c.9999.exr", "m_u1_v2.tif"):
        (tmp_path / name).write_bytes(b"x")
    udim = dependency(str(tmp_path / "c.<UDIM>.exr"), AssetKind.IMAGE)
    assert udim.exists and [Path(f).name for f in udim.files] == ["c.1001.exr", "c.1012.exr"]
    assert dependency(str(tmp_path / "c.%(UDIM)d.exr"), AssetKind.IMAGE).exists
    assert dependency(str(tmp_path / "m_<UVTILE>.tif"), AssetKind.IMAGE).exists
    assert not dependency(str(tmp_path / "none.<UDIM>.exr"), AssetKind.IMAGE).exists


def test_outputs_report_frames_already_there_and_nothing_missing(tmp_path: Path) -> None:
    (tmp_path / "o.0002.png").write_bytes(b"x")
    asset = output(str(tmp_path / "o.####.png"), AssetKind.IMAGE, frames=range(1, 4))
    assert asset.exists and asset.files == (str(tmp_path / "o.0002.png"),)
    assert asset.missing_files == ()


def test_a_sequence_as_the_dcc_evaluated_it(tmp_path: Path) -> None:
    (tmp_path / "v.0001.vdb").write_bytes(b"x")
    files = {1: str(tmp_path / "v.0001.vdb"), 2: str(tmp_path / "v.0002.vdb")}
    asset = evaluated_dependency(str(tmp_path / "v.$F4.vdb"), AssetKind.CACHE, files)
    assert not asset.exists and asset.missing_files == (files[2],)
    single = evaluated_dependency("$HIP/a.abc", AssetKind.CACHE, {1: str(tmp_path / "v.0001.vdb")})
    assert single.exists and single.path == str(tmp_path / "v.0001.vdb")


def test_read_scene_knows_its_kinds_and_says_what_it_cannot_read(tmp_path: Path) -> None:
    assert {".hip", ".hiplc", ".hipnc", ".ma", ".nk"} <= set(supported_extensions())
    binary = tmp_path / "shot.mb"
    binary.write_bytes(b"FOR4")
    with pytest.raises(InvalidInput, match="Maya binary"):
        read_scene(binary)
    with pytest.raises(InvalidInput, match=r"Known kinds: \.hip"):
        read_scene(tmp_path / "notes.txt")
    with pytest.raises(InvalidInput, match="does not exist"):
        read_scene(tmp_path / "gone.nk")


def test_report_as_json(tmp_path: Path) -> None:
    script = tmp_path / "a.nk"
    script.write_text("Read {\n inputs 0\n file missing.exr\n name R\n}\n")
    data = read_scene(script).to_dict()
    assert data["info"]["dcc"] == "nuke"
    assert data["dependencies"][0]["path"] == str(tmp_path / "missing.exr")
    assert data["dependencies"][0]["exists"] is False
