"""Paths inside text scenes (.ma, .nk, .usda) rewritten through the mapping table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from common.data.pathmap import PathMapping, PathRule, Platform
from common.data.scene_text import SUPPORTED_SUFFIXES, rewrite_file, rewrite_text
from tests.conftest import SHARED

TABLE = PathMapping(
    [PathRule(name="studio", windows="P:\\", unc="\\\\fs01\\projects", linux="/mnt/studio")]
)


def to_linux(path: str) -> str | None:
    return TABLE.map(path, Platform.LINUX)


def to_windows(path: str) -> str | None:
    return TABLE.map(path, Platform.WINDOWS)


MAYA = """//Maya ASCII 2024 scene
file -rdi 1 -ns "chr" -rfn "chrRN" -typ "mayaAscii" "P:/show/assets/chr/chr.ma";
file -r -ns "set" -dr 1 -rfn "setRN" -typ "mayaAscii" "\\\\\\\\fs01\\\\projects\\\\show\\\\set.ma";
createNode file -n "wood";
\tsetAttr ".ftn" -type "string" "P:\\\\show\\\\tex\\\\wood.<UDIM>.tx";
\tsetAttr ".ftn" -type "string" "sourceimages/local.png";
\tsetAttr ".nt" -type "string" "a \\"quoted\\" note about P:/show";
"""

MAYA_LINUX = """//Maya ASCII 2024 scene
file -rdi 1 -ns "chr" -rfn "chrRN" -typ "mayaAscii" "/mnt/studio/show/assets/chr/chr.ma";
file -r -ns "set" -dr 1 -rfn "setRN" -typ "mayaAscii" "/mnt/studio/show/set.ma";
createNode file -n "wood";
\tsetAttr ".ftn" -type "string" "/mnt/studio/show/tex/wood.<UDIM>.tx";
\tsetAttr ".ftn" -type "string" "sourceimages/local.png";
\tsetAttr ".nt" -type "string" "a \\"quoted\\" note about P:/show";
"""


def test_maya_ascii_both_directions() -> None:
    text, count = rewrite_text(MAYA, ".ma", to_linux)
    assert (text, count) == (MAYA_LINUX, 3)
    back, count = rewrite_text(MAYA_LINUX, ".ma", to_windows)
    assert count == 3
    # backslashes are escaped again inside Maya strings
    assert '"P:\\\\show\\\\assets\\\\chr\\\\chr.ma";' in back
    assert rewrite_text(back, ".ma", to_linux)[0] == MAYA_LINUX


NUKE = """Read {
 inputs 0
 file P:/show/sh010/plate/sh010.####.exr
 proxy {P:/show/sh010/proxy/my plate.%04d.jpg}
 name Read1
}
Write {
 file "\\[file dirname \\[value root.name]]/render/out.####.exr"
 file_type exr
}
Read {
 file //fs01/projects/show/lut.cube
}
"""


def test_nuke_values_bare_braced_and_tcl() -> None:
    text, count = rewrite_text(NUKE, ".nk", to_linux)
    assert count == 3
    assert " file /mnt/studio/show/sh010/plate/sh010.####.exr\n" in text
    assert " proxy {/mnt/studio/show/sh010/proxy/my plate.%04d.jpg}\n" in text
    assert ' file "\\[file dirname \\[value root.name]]/render/out.####.exr"\n' in text
    assert " file /mnt/studio/show/lut.cube\n" in text
    back, _ = rewrite_text(text, ".nk", to_windows)
    assert " file P:/show/sh010/plate/sh010.####.exr\n" in back  # Nuke writes "/" everywhere


USDA = """#usda 1.0
(
    subLayers = [@P:/show/layers/anim.usda@, @./local.usda@]
)
def Xform "set" (prepend references = @@@/mnt/studio/show/set@v2.usd@@@)
{
    asset inputs:file = @\\\\fs01\\projects\\show\\tex\\wood.<UDIM>.exr@
    string note = "/mnt/studio/show/readme.txt"
}
"""


def test_usda_asset_paths() -> None:
    text, count = rewrite_text(USDA, ".usda", to_linux)
    assert count == 2  # the Linux paths were already Linux paths
    assert "@/mnt/studio/show/layers/anim.usda@, @./local.usda@" in text
    assert "@/mnt/studio/show/tex/wood.<UDIM>.exr@" in text
    back, count = rewrite_text(text, ".usda", to_windows)
    assert count == 4
    assert "@@@P:\\show\\set@v2.usd@@@" in back
    assert '"P:\\\\show\\\\readme.txt"' in back  # a quoted string: escaped


def test_unsupported_format_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\.mb"):
        rewrite_text("", ".mb", to_linux)


def test_rewrite_file_breaks_hard_links_and_keeps_other_bytes(tmp_path: Path) -> None:
    source = tmp_path / "cache" / "scene.ma"
    source.parent.mkdir()
    source.write_bytes(MAYA.encode() + b"// latin-1 bytes: \xe9\xff\n")
    dest = tmp_path / "ws" / "scene.ma"
    dest.parent.mkdir()
    os.link(source, dest)
    assert rewrite_file(source, dest, to_linux) == 3
    assert source.read_bytes().startswith(MAYA.encode())  # the cache's copy is untouched
    assert not os.path.samefile(source, dest)
    assert dest.read_bytes() == MAYA_LINUX.encode() + b"// latin-1 bytes: \xe9\xff\n"


def _real_scenes() -> list[Path]:
    folder = SHARED / "scenes"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in SUPPORTED_SUFFIXES and p.is_file())


@pytest.mark.skipif(not _real_scenes(), reason="../shared/scenes (real .ma/.nk files) is absent")
def test_real_scenes_come_out_identical_when_nothing_maps(tmp_path: Path) -> None:
    scenes = _real_scenes()
    for index, scene in enumerate(scenes):
        dest = tmp_path / f"{index}{scene.suffix}"
        assert rewrite_file(scene, dest, to_linux) == 0, scene
        assert dest.read_bytes() == scene.read_bytes(), scene


@pytest.mark.skipif(not _real_scenes(), reason="../shared/scenes (real .ma/.nk files) is absent")
def test_real_maya_references_follow_a_rule_for_their_variable(tmp_path: Path) -> None:
    maya = [p for p in _real_scenes() if "$MAYAFILEBASE/ma/" in p.read_text(errors="replace")]
    if not maya:
        pytest.skip("no real .ma file references $MAYAFILEBASE")

    def expand(path: str) -> str | None:
        if not path.startswith("$MAYAFILEBASE/"):
            return None
        return to_windows("/mnt/studio/mrv/" + path.removeprefix("$MAYAFILEBASE/"))

    text, count = rewrite_text(maya[0].read_text(errors="surrogateescape"), ".ma", expand)
    assert count >= 1
    assert "$MAYAFILEBASE/ma/" not in text
    assert '"P:\\\\mrv\\\\ma\\\\' in text
