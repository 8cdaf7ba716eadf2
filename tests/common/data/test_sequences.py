"""Sequence and UDIM patterns: which files exist, and the frame or tile of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.data.sequences import compile_name, expand, has_pattern, match_name, tag_files


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("plate.####.exr", "plate.0012.exr", (12, None)),
        ("plate.####.exr", "plate.12345.exr", (12345, None)),
        ("plate.####.exr", "plate.012.exr", None),  # three digits: not this pattern's
        ("plate.####.exr", "plate.00012.exr", None),
        ("plate.####.exr", "plate.-012.exr", (-12, None)),
        ("plate.#.exr", "plate.7.exr", (7, None)),
        ("plate.%04d.exr", "plate.1001.exr", (1001, None)),
        ("plate.%d.exr", "plate.5.exr", (5, None)),
        ("plate.%d.exr", "plate.05.exr", None),
        ("geo.$F4.bgeo.sc", "geo.0042.bgeo.sc", (42, None)),
        ("geo.${F4}.bgeo.sc", "geo.0042.bgeo.sc", (42, None)),
        ("geo.$F.bgeo.sc", "geo.42.bgeo.sc", (42, None)),
        ("tex.<UDIM>.tx", "tex.1001.tx", (None, 1001)),
        ("tex.<udim>.tx", "tex.1012.tx", (None, 1012)),
        ("tex.<UDIM>.tx", "tex.0999.tx", None),
        ("disp.<UDIM>.####.exr", "disp.1002.0010.exr", (10, 1002)),
        ("a.####.b.####.exr", "a.0001.b.0002.exr", None),  # one frame, written twice
        ("plate.####.exr", "plate.0012.exr.bak", None),
    ],
)
def test_name_patterns(pattern: str, name: str, expected: tuple[int | None, int | None]) -> None:
    compiled = compile_name(pattern)
    assert compiled is not None
    assert match_name(compiled, name) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/s/plate.####.exr", True),
        ("P:\\s\\plate.%04d.exr", True),
        ("/s/geo.$F4.bgeo", True),
        ("/s/tex.<UDIM>.tx", True),
        ("/s/$FOO/tex.exr", False),  # a variable in a folder, not a frame
        ("/s/tex.$FOO.exr", False),
        ("/s/####/tex.exr", False),  # folders are not expanded
        ("/s/tex.exr", False),
    ],
)
def test_has_pattern(path: str, expected: bool) -> None:
    assert has_pattern(path) is expected


def test_expand_lists_existing_files_tagged_and_sorted(tmp_path: Path) -> None:
    for frame in (3, 1, 2, 10):
        (tmp_path / f"plate.{frame:04d}.exr").write_bytes(b"x")
    (tmp_path / "plate.0004.exr.tmp").write_bytes(b"x")
    (tmp_path / "other.0001.exr").write_bytes(b"x")
    found = expand(str(tmp_path / "plate.####.exr"))
    assert [(Path(f.path).name, f.frame) for f in found] == [
        ("plate.0001.exr", 1),
        ("plate.0002.exr", 2),
        ("plate.0003.exr", 3),
        ("plate.0010.exr", 10),
    ]
    assert all(Path(f.path).parent == tmp_path for f in found)


def test_expand_of_a_missing_folder_or_plain_file(tmp_path: Path) -> None:
    assert expand(str(tmp_path / "nowhere" / "a.####.exr")) == []
    (tmp_path / "one.exr").write_bytes(b"x")
    assert [f.path for f in expand(str(tmp_path / "one.exr"))] == [str(tmp_path / "one.exr")]
    assert expand(str(tmp_path / "two.exr")) == []


def test_tag_files_keeps_windows_separators_and_untagged_files() -> None:
    tagged = tag_files(
        "P:\\show\\tex.<UDIM>.tx", ["P:\\show\\tex.1002.tx", "P:\\show\\tex.1001.tx", "P:\\x.tx"]
    )
    assert [(f.path, f.tile) for f in tagged] == [
        ("P:\\show\\tex.1001.tx", 1001),
        ("P:\\show\\tex.1002.tx", 1002),
        ("P:\\x.tx", None),
    ]
