"""The offline .blend reader knows each tiled image's UDIM tiles from the file itself.

Real Blender (``bpy``, in a process of its own) saves a scene whose image uses tiles 1001,
1002 and 1011; only 1001 and 1002 are on disk. Without Blender, the reader must report the
tile set and name 1011 missing (it used to list the tiles on disk and call the set complete).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from dcc.blender.offline import NEEDS_BLENDER, read_blend, udim_tiles

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None,
    reason="bpy is not installed: install the blender extra (pip install -e '.[blender]')",
)

BUILD = """
import sys
import bpy

bpy.ops.wm.read_homefile(use_empty=True)
image = bpy.data.images.new("skin", 4, 4, tiled=True)
for number in (1002, 1011):
    image.tiles.new(tile_number=number)
image.filepath = "//tex/skin.<UDIM>.png"
image.source = "TILED"
material = bpy.data.materials.new("Skin")
material.use_nodes = True
material.node_tree.nodes.new("ShaderNodeTexImage").image = image
material.use_fake_user = True
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
"""


@pytest.fixture(scope="module")
def blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("udim")
    path = folder / "skin.blend"
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(path)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (folder / "tex").mkdir()
    for tile in (1001, 1002):
        (folder / "tex" / f"skin.{tile}.png").write_bytes(b"png")
    return path


def test_the_tiles_an_image_uses_are_read_from_the_file(blend: Path) -> None:
    assert udim_tiles(blend) == {str(blend.parent / "tex" / "skin.<UDIM>.png"): [1001, 1002, 1011]}


def test_a_tile_without_its_file_is_reported_missing(blend: Path) -> None:
    report = read_blend(str(blend))
    (skin,) = [a for a in report.dependencies if "<UDIM>" in a.path]
    assert not skin.exists
    assert [Path(f).name for f in skin.files] == ["skin.1001.png", "skin.1002.png"]
    assert skin.missing_files == (str(blend.parent / "tex" / "skin.1011.png"),)
    assert not any("UDIM" in line for line in NEEDS_BLENDER)  # no longer needs Blender
