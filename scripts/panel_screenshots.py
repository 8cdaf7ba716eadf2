"""Renders the submit panel offscreen for Blender, Maya, Houdini and Nuke and saves PNGs.

``python scripts/panel_screenshots.py [--out docs/screenshots]`` writes
``panel-<dcc>.png`` for each DCC. The Blender panel reads a real scene that this script builds
with ``bpy`` (a texture on disk, one missing, a linked library); Maya, Houdini and Nuke show
representative scenes described here, as their adapters would report them. The panel talks to
a real daemon started in this process on a free 127.0.0.1 port, with a temporary database.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common.host import Asset, AssetKind, RenderTarget, SceneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported (in functions)

logger = logging.getLogger("panel_screenshots")

SHOW = "/show/tlk"
OWNER = "mara"


class StaticHost:
    """A ``HostAdapter`` that reports fixed facts, for hosts not installed here."""

    def __init__(self, info: SceneInfo, assets: Sequence[Asset]) -> None:
        self.dcc = info.dcc
        self.info = info
        self.assets = list(assets)

    def main_window(self) -> Any:
        return None

    def scene_path(self) -> Path | None:
        return Path(self.info.scene_path)

    def is_dirty(self) -> bool:
        return False

    def save(self) -> None:
        pass

    def scene_info(self) -> SceneInfo:
        return self.info

    def collect_assets(self) -> list[Asset]:
        return self.assets

    def extra_widget(self, parent: Any) -> Any:
        return None


def _files(pattern: str, frames: range) -> tuple[str, ...]:
    return tuple(pattern.replace("####", f"{f:04d}") for f in frames)


def maya_host() -> StaticHost:
    shot = f"{SHOW}/seq010/sh010"
    images = f"{shot}/maya/images"
    layers = ("masterLayer", "fg_chars", "bg_env")
    info = SceneInfo(
        dcc="maya", scene_path=f"{shot}/maya/scenes/sh010_lighting_v012.ma",
        frame_start=1001, frame_end=1120, fps=24.0, renderer="arnold", resolution=(2048, 858),
        targets=tuple(
            RenderTarget(name, "render_layer", ("shotCam",),
                         f"{images}/{name}/sh010_{name}.####.exr", "arnold", name != "bg_env")
            for name in layers
        ),
        cameras=("persp", "shotCam", "witnessCam"),
        output=f"{images}/<RenderLayer>/sh010_<RenderLayer>.####.exr", output_format="exr",
        extra={"project_root": SHOW},
    )  # fmt: skip
    tex = f"{SHOW}/assets/chr/hero/tex"
    udims = tuple(f"{tex}/hero_body_diff.{n}.tx" for n in (1001, 1002, 1003, 1011))
    assets = [
        Asset(f"{tex}/hero_body_diff.<UDIM>.tx", AssetKind.IMAGE, True, 187_400_000, udims,
              source="file1.fileTextureName"),
        Asset(f"{tex}/hero_body_rough.<UDIM>.tx", AssetKind.IMAGE, False, 96_100_000,
              udims[:3], (f"{tex}/hero_body_rough.1011.tx",), "file2.fileTextureName"),
        Asset(f"{SHOW}/assets/chr/hero/rig/hero_rig_v031.ma", AssetKind.REFERENCE, True,
              41_200_000, source="heroRN"),
        Asset(f"{SHOW}/assets/env/street/street_v008.ma", AssetKind.REFERENCE, True, 12_900_000,
              source="streetRN"),
        Asset(f"{shot}/cache/alembic/hero_anim_v014.abc", AssetKind.CACHE, True, 1_380_000_000,
              source="hero_anim_AlembicNode.abc_File"),
        Asset(f"{SHOW}/assets/env/street/tex/asphalt_diff.tx", AssetKind.IMAGE, False,
              source="file7.fileTextureName"),
        Asset(f"{SHOW}/lib/hdri/overcast_4k.exr", AssetKind.IMAGE, True, 64_000_000,
              source="aiSkyDomeLight1.color"),
    ]  # fmt: skip
    return StaticHost(info, assets)


def houdini_host() -> StaticHost:
    shot = f"{SHOW}/seq010/sh020"
    hip = f"{shot}/houdini"
    info = SceneInfo(
        dcc="houdini", scene_path=f"{hip}/sh020_fx_v007.hipnc", frame_start=1001,
        frame_end=1096, fps=24.0, renderer="karma", resolution=(1920, 1080),
        targets=(
            RenderTarget("/out/karma_beauty", "rop", ("/obj/shotcam",),
                         f"{hip}/render/sh020_fx_v007.beauty.$F4.exr", "karma"),
            RenderTarget("/out/mantra_smoke", "rop", ("/obj/shotcam",),
                         f"{hip}/render/sh020_fx_v007.smoke.$F4.exr", "mantra"),
            RenderTarget("/out/sim_cache", "rop", (), f"{hip}/geo/pyro.$F4.bgeo.sc", "geometry"),
        ),
        cameras=("/obj/shotcam",), output=f"{hip}/render/sh020_fx_v007.beauty.$F4.exr",
        output_format="exr", extra={"project_root": SHOW},
    )  # fmt: skip
    assets = [
        Asset(f"{hip}/geo/pyro.$F4.bgeo.sc", AssetKind.CACHE, True, 9_400_000_000,
              _files(f"{hip}/geo/pyro.####.bgeo.sc", range(1001, 1097)),
              source="/obj/pyro_import/file1.file"),
        Asset(f"{shot}/cache/vdb/smoke.$F4.vdb", AssetKind.CACHE, False, 3_100_000_000,
              _files(f"{shot}/cache/vdb/smoke.####.vdb", range(1001, 1090)),
              _files(f"{shot}/cache/vdb/smoke.####.vdb", range(1090, 1097)),
              "/obj/smoke/volume_import.file"),
        Asset(f"{SHOW}/lib/hdri/overcast_4k.exr", AssetKind.IMAGE, True, 64_000_000,
              source="/obj/envlight.env_map"),
        Asset(f"{SHOW}/assets/env/street/street_v008.usd", AssetKind.REFERENCE, True,
              220_000_000, source="/stage/street_ref.filepath1"),
    ]  # fmt: skip
    return StaticHost(info, assets)


def nuke_host() -> StaticHost:
    shot = f"{SHOW}/seq010/sh010"
    comp = f"{shot}/comp"
    info = SceneInfo(
        dcc="nuke", scene_path=f"{comp}/sh010_comp_v021.nk", frame_start=1001, frame_end=1120,
        fps=24.0, renderer="nuke", resolution=(2048, 858),
        targets=(
            RenderTarget("Write_EXR", "write", (), f"{comp}/render/sh010_comp_v021.%04d.exr"),
            RenderTarget("Write_Review", "write", (), f"{comp}/review/sh010_comp_v021.%04d.jpg"),
        ),
        output=f"{comp}/render/sh010_comp_v021.%04d.exr", output_format="exr",
        extra={"project_root": SHOW},
    )  # fmt: skip
    plate = f"{shot}/plates/sh010_bg_v001.%04d.exr"
    assets = [
        Asset(plate, AssetKind.IMAGE, True, 6_200_000_000,
              _files(plate.replace("%04d", "####"), range(1001, 1121)), source="Read1.file"),
        Asset(f"{shot}/maya/images/masterLayer/sh010_masterLayer.%04d.exr", AssetKind.IMAGE,
              True, 3_900_000_000, source="Read2.file"),
        Asset(f"{SHOW}/config/ocio/config.ocio", AssetKind.OTHER, True, 41_000,
              source="root.customOCIOConfigPath"),
        Asset(f"{shot}/roto/sh010_roto_v003.nk", AssetKind.REFERENCE, True, 2_400_000,
              source="Precomp1.file"),
    ]  # fmt: skip
    return StaticHost(info, assets)


def blender_host(folder: Path) -> Any:
    """A real scene built with bpy: the demo scene with a texture, a missing one and a library."""
    import bpy

    from cloud_agent.demo_scene import write_demo_scene
    from dcc.blender.adapter import BlenderAdapter

    library = folder / "assets" / "props.blend"
    write_demo_scene(library, 1, 1, 64, 36, 1)
    scene = folder / "sh030_lighting_v004.blend"
    write_demo_scene(scene, 1, 48, 1920, 1080, 64)
    bpy.ops.wm.open_mainfile(filepath=str(scene))
    texture = bpy.data.images.new("wood_diffuse", 64, 64)
    texture.filepath_raw = str(folder / "textures" / "wood_diffuse.png")
    (folder / "textures").mkdir(exist_ok=True)
    texture.file_format = "PNG"
    texture.save()
    texture.use_fake_user = True
    missing = bpy.data.images.new("metal_rough", 8, 8)
    missing.source = "FILE"
    missing.filepath = "//textures/metal_rough.png"
    missing.use_fake_user = True
    with bpy.data.libraries.load(str(library), link=True, relative=True) as (source, target):
        target.objects = [name for name in source.objects if name == "Sphere"]
    for obj in target.objects:
        bpy.context.scene.collection.objects.link(obj)
    bpy.context.scene.render.filepath = "//render/sh030_####"
    bpy.ops.wm.save_as_mainfile(filepath=str(scene))
    return BlenderAdapter()


@contextmanager
def daemon(folder: Path) -> Iterator[tuple[str, str]]:
    """A real daemon on waitress in this process, with a few jobs of ``OWNER`` to list; yields
    its URL and an API key of ``OWNER`` (an artist)."""
    import waitress

    from common.accounts import Role, UserCreate
    from common.config import Settings
    from common.models import JobSpec
    from daemon.app import create_app
    from daemon.container import services_of

    app = create_app(Settings(data_dir=folder / "daemon"))
    services = services_of(app)
    jobs = services.jobs
    user = services.users.create(UserCreate(name=OWNER, role=Role.ARTIST))
    token = services.auth.create_api_key(user.id, "screenshots")
    for name, frames in (("sh010_lighting_v011", "1001-1120"), ("sh020_fx_v006", "1001-1096")):
        jobs.submit(JobSpec(name=name, owner=OWNER, scene=f"{SHOW}/{name}.ma", frames=frames,
                            output=f"{SHOW}/renders/{name}_####", chunk_size=8))  # fmt: skip
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", token
    finally:
        server.close()


def shoot(host: Any, url: str, token: str, store_dir: Path, path: Path, tab: int = 0) -> None:
    """Opens the dialog for ``host``, lets its daemon calls finish, and saves a PNG."""
    from PySide6.QtCore import QCoreApplication, QDateTime, QDeadlineTimer, QThread

    from common.config import Settings
    from common.qt import SubmitDialog, ensure_application
    from common.qt.settings_store import SettingsStore

    ensure_application()
    store = SettingsStore(store_dir / f"{host.dcc}.json")
    config = Settings(daemon_url=url, token=token)
    dialog = SubmitDialog(host, config=config, store=store)
    panel = dialog.panel
    if host.dcc == "maya":
        panel.form.target.setCurrentIndex(1)
        panel.form.chunk.setValue(5)
        extras = panel.form.extras
        extras.has_due.setChecked(True)
        extras.due.setDateTime(QDateTime.currentDateTime().addDays(3))
        extras.sg_project.setText("tlk")
        extras.sg_shot.setText("sh010")
        extras.sg_task.setText("lighting")
        extras.description.setPlainText("New key light; check the rim on the hero.")
    dialog.show()
    deadline = QDeadlineTimer(10_000)
    while (panel.daemon_ok is None or not panel.recent.jobs) and not deadline.hasExpired():
        QCoreApplication.processEvents()
        QThread.msleep(20)
    panel.tabs.setCurrentIndex(tab)
    QCoreApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not dialog.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    logger.info("wrote %s", path)
    panel.shutdown()
    dialog.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--dcc", action="append", choices=["blender", "maya", "houdini", "nuke"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    wanted = args.dcc or ["blender", "maya", "houdini", "nuke"]
    # A fixed, readable place for the Blender scene: its path shows in the screenshot.
    projects = Path(tempfile.gettempdir()) / "cloudburst-screenshots"
    shutil.rmtree(projects, ignore_errors=True)
    with (
        tempfile.TemporaryDirectory(prefix="cloudburst-daemon-") as tmp,
        daemon(Path(tmp)) as (url, token),
    ):
        hosts = {"maya": maya_host, "houdini": houdini_host, "nuke": nuke_host}
        for dcc in wanted:
            if dcc == "blender":
                host = blender_host(projects / "tlk" / "seq030" / "sh030")
            else:
                host = hosts[dcc]()
            shoot(host, url, token, Path(tmp), args.out / f"panel-{dcc}.png")
    shutil.rmtree(projects, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
