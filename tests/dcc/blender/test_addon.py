"""The Blender add-on in real Blender (``bpy``, headless): it enables, opens the panel, and its
adapter reports the facts and files of scenes built here and of real .blend files.

Blender runs in a process of its own (``bpy_probe.py``), once for this module: ``bpy`` keeps
one open file and its registered classes per process, which must not leak into other tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED

BLEND_DIR = SHARED / "scenes" / "blend"
PROBE = Path(__file__).with_name("bpy_probe.py")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None,
    reason="bpy is not installed: install the blender extra (pip install -e '.[blender]')",
)


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("blender")
    env = {k: v for k, v in os.environ.items() if k != "CLOUDBURST_CONFIG"}
    env.update(
        HOME=str(root / "home"),  # the panel's per-scene settings land here
        XDG_CONFIG_HOME=str(root / "home" / ".config"),
        QT_QPA_PLATFORM="offscreen",
        CLOUDBURST_DAEMON_URL="http://127.0.0.1:9",  # nothing listens: the panel says so
    )
    out = root / "report.json"
    args = [sys.executable, str(PROBE), str(root / "work"), str(out)]
    if BLEND_DIR.is_dir():
        args.append(str(BLEND_DIR))
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads(out.read_text())
    report["work"] = str(root / "work")
    return report


def by_name(assets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {os.path.basename(a["path"]): a for a in assets}


# --- the add-on ------------------------------------------------------------------------------


def test_the_addon_enables_and_disables_in_blender(probe: dict[str, Any]) -> None:
    assert probe["enabled"] is True
    assert probe["bl_info_name"] == "Cloudburst Submitter"
    assert probe["operator"] is True and probe["menu_entry"] is True
    assert probe["operator_after_disable"] is False


def test_the_operator_opens_the_panel_and_pumps_qt_from_a_blender_timer(
    probe: dict[str, Any],
) -> None:
    assert probe["operator_result"] == ["FINISHED"]
    assert probe["timer_registered"] is True
    assert probe["dialogs"] == 1 and probe["panel_dcc"] == "blender"
    assert probe["panel_frames"] == "5-61"  # the scene as saved through the adapter
    assert probe["panel_dependencies"] == 6
    assert probe["pump_while_open"] == pytest.approx(0.02)
    assert probe["pump_after_close"] is None  # the timer ends with the last window


# --- the adapter on a scene built here ------------------------------------------------------------


def test_the_adapter_reports_the_scenes_facts(probe: dict[str, Any]) -> None:
    shot = probe["shot"]
    info = shot["info"]
    work = probe["work"]
    assert shot["scene_path"] == info["scene_path"] == f"{work}/shot.blend"
    assert shot["dirty"] is False  # headless Blender: saved
    assert (info["frame_start"], info["frame_end"], info["frame_step"]) == (5, 60, 1)
    assert info["fps"] == 25.0 and info["renderer"] == "cycles"
    assert info["resolution"] == [320, 180]  # 640x360 at 50 %
    assert [(t["name"], t["kind"], t["enabled"]) for t in info["targets"]] == [
        ("Beauty", "view_layer", True),
        ("Shadows", "view_layer", False),
    ]
    assert info["cameras"] == ["ShotCam", "WitnessCam"]
    assert info["extra"] == {"project_root": work, "camera": "ShotCam"}
    assert info["output"] == "//render/shot_####" and info["output_format"] == "OPEN_EXR"


def test_the_adapter_finds_every_file_missing_ones_included(probe: dict[str, Any]) -> None:
    work = probe["work"]
    assets = by_name(probe["shot"]["assets"])
    assert set(assets) == {"wood.png", "metal_missing.png", "skin.<UDIM>.png", "plate.####.png",
                           "props.blend", "prop_diffuse.png"}  # fmt: skip
    wood = assets["wood.png"]
    assert wood["exists"] and wood["kind"] == "image" and wood["size"] > 0
    assert wood["size"] == os.path.getsize(wood["path"])
    assert assets["metal_missing.png"]["exists"] is False
    assert assets["metal_missing.png"]["source"] == "Image 'metal'"

    skin = assets["skin.<UDIM>.png"]
    assert [os.path.basename(f) for f in skin["files"]] == ["skin.1001.png", "skin.1002.png"]
    assert skin["missing_files"] == [f"{work}/tex/skin.1003.png"] and skin["exists"] is False

    plate = assets["plate.####.png"]
    assert len(plate["files"]) == 3 and plate["missing_files"] == [f"{work}/tex/plate.0003.png"]

    library = assets["props.blend"]
    assert library["kind"] == "reference" and library["exists"]
    assert library["size"] == os.path.getsize(f"{work}/lib/props.blend")
    texture = assets["prop_diffuse.png"]  # used inside the linked library
    assert texture["exists"] and texture["path"] == f"{work}/lib/tex/prop_diffuse.png"
    assert "from props.blend" in texture["source"]


def test_saving_through_the_adapter_writes_the_file(probe: dict[str, Any]) -> None:
    assert probe["frame_end_after_save"] == 61


def test_a_file_never_saved_has_no_path_and_no_files(probe: dict[str, Any]) -> None:
    assert probe["untitled"]["info"]["scene_path"] == ""
    assert probe["untitled"]["assets"] == []


# --- the adapter on real .blend files ------------------------------------------------------------

#: What a careful look at each file shows it uses: (kind, file name, exists).
REAL_FILES: dict[str, list[tuple[str, str, bool | None]]] = {
    "bat-tests/linked_cube.blend": [("reference", "basic_file.blend", True)],
    "bat-tests/missing_textures.blend": [
        ("image", "Golden Palace 2, Old Bagan-1k.exr", False),
        ("image", "marble_decoration-color.png", False),
    ],
    "bat-tests/alembic-user.blend": [("cache", "clothsim.abc", True)],
    "bat-tests/meshcache-user.blend": [("cache", "meshcache.mdd", True)],
    "bat-tests/multires_external.blend": [("other", "Cube.btx", True)],
    "bat-tests/T55539-particles/particle.blend": [("cache", "43756265_*.bphys", True)],
    "bat-tests/image_sequencer.blend": [
        ("image", "######.png", False),
        ("image", "video-tiny.mkv", False),
    ],
    "bat-tests/subdir/image_sequence_dir_up.blend": [("image", "######.png", False)],
    "bat-tests/movieclip.blend": [("image", "video.mov", False)],
    "bat-tests/with_font.blend": [("font", "Hack-Bold.ttf", None)],  # None: as on this disk
    "bat-tests/absolute_path.blend": [
        ("image", "brick_dotted_04-color.jpg", False),
        ("image", "buildings_roof_04-color.png", None),
    ],
    "bat-tests/basic_file.blend": [],
    "bat-tests/basic_file_zstandard.blend": [],
    "cgru/scene.blend": [],
}

needs_scenes = pytest.mark.skipif(
    not BLEND_DIR.is_dir(), reason=f"the shared scenes are not at {BLEND_DIR}"
)


@needs_scenes
@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_files_dependencies(probe: dict[str, Any], name: str) -> None:
    seen = probe["real"][name]
    assert seen["info"]["dcc"] == "blender"
    assert seen["scene_path"] == str(BLEND_DIR / name)
    got = sorted((a["kind"], os.path.basename(a["path"]), a["exists"]) for a in seen["assets"])
    want = sorted(
        (kind, file, os.path.exists(a["path"]) if exists is None else exists)
        for kind, file, exists in REAL_FILES[name]
        for a in seen["assets"] if os.path.basename(a["path"]) == file
    )  # fmt: skip
    assert got == want and len(got) == len(REAL_FILES[name])


@needs_scenes
def test_real_particle_cache_lists_every_frame_file(probe: dict[str, Any]) -> None:
    (cache,) = probe["real"]["bat-tests/T55539-particles/particle.blend"]["assets"]
    folder = BLEND_DIR / "bat-tests/T55539-particles/blendcache_particle"
    assert sorted(cache["files"]) == sorted(str(p) for p in folder.glob("*.bphys"))
    assert cache["size"] == sum(p.stat().st_size for p in folder.glob("*.bphys"))
    assert "of object 'Cube'" in cache["source"]


@needs_scenes
def test_real_scene_facts(probe: dict[str, Any]) -> None:
    info = probe["real"]["cgru/scene.blend"]["info"]
    assert (info["frame_start"], info["frame_end"], info["renderer"]) == (1, 250, "eevee")
    assert info["resolution"] == [1280, 720] and info["cameras"] == ["Camera"]
    assert info["output"] == "./render/render.####" and info["output_format"] == "PNG"
    assert [t["name"] for t in info["targets"]] == ["View Layer"]
    linked = probe["real"]["bat-tests/linked_cube.blend"]["info"]
    assert linked["renderer"] == "cycles" and linked["output_format"] == "FFMPEG"
