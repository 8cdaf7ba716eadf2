"""The offline .blend reader reads scenes that use Geometry Nodes.

Blender 5 saves a Geometry Nodes modifier that has no bakes with its ``bakes`` pointer
pointing nowhere. Blender Asset Tracer followed it and stopped ("address does not exist"), so
no such scene could be read without Blender: found on ``tests/scenes/38_pointcloud_GN.blend``
of KhronosGroup/glTF-Blender-IO (docs/scene_readers.md). Real Blender (``bpy``, in a process
of its own) saves the same shape here: a Geometry Nodes modifier without bakes, followed on the
same object by a Mesh Cache modifier whose file must still be found.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from common.host import AssetKind
from dcc.blender.offline import read_blend

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None,
    reason="bpy is not installed: install the blender extra (pip install -e '.[blender]')",
)

BUILD = """
import sys
import bpy

bpy.ops.wm.read_homefile(use_empty=True)
cube = bpy.data.objects.new("Cube", bpy.data.meshes.new("Cube"))
bpy.context.scene.collection.objects.link(cube)
nodes = cube.modifiers.new("GeometryNodes", "NODES")
nodes.node_group = bpy.data.node_groups.new("Points", "GeometryNodeTree")
cube.modifiers.new("Cache", "MESH_CACHE").filepath = "//cache/cube.pc2"
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
"""


@pytest.fixture(scope="module")
def blend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("geometry_nodes") / "points.blend"
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(path)], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return path


def test_a_geometry_nodes_modifier_without_bakes_does_not_stop_the_trace(blend: Path) -> None:
    report = read_blend(str(blend))
    cache = blend.parent / "cache" / "cube.pc2"
    assert [(a.path, a.kind, a.exists) for a in report.dependencies] == [
        (str(cache), AssetKind.CACHE, False)
    ]
    cache.parent.mkdir()
    cache.write_bytes(b"pc2")
    assert read_blend(str(blend)).dependencies[0].exists
