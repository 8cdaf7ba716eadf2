"""The ``SceneReport`` of a Maya ASCII file, references followed to any depth."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

from common.errors import InvalidInput
from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.scene_readers import maya_nodes, maya_paths, sequences
from common.scene_readers.maya_ascii import (
    MayaAscii,
    MayaNode,
    MayaReference,
    find_workspace,
    parse_maya_ascii,
)
from common.scene_readers.report import SceneReport, unique

logger = logging.getLogger(__name__)


def load_maya_ascii(path: str) -> MayaAscii:
    """Parses the ``.ma`` file at ``path``.

    Raises:
        InvalidInput: the file cannot be read or is not Maya ASCII.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError as exc:
        raise InvalidInput(f"Cannot read the Maya scene {path}: {exc.strerror or exc}.") from None
    return parse_maya_ascii(text, path)


def read_maya_ascii(path: str, env: Mapping[str, str] | None = None) -> SceneReport:
    """Everything a render of the ``.ma`` file at ``path`` reads and writes.

    Args:
        path: the scene.
        env: variables for paths such as ``$MAYAFILEBASE/ma/cube.ma`` (``os.environ`` when None).

    Raises:
        InvalidInput: the file cannot be read or is not Maya ASCII.
    """
    path = os.path.abspath(path)
    scene = load_maya_ascii(path)
    info = scene_info(scene, path)
    frames = range(info.frame_start, info.frame_end + 1, info.frame_step)
    walker = _Walker(os.environ if env is None else env, find_workspace(path), frames)
    walker.visit(scene, "")
    outputs = [
        sequences.output(t.output, AssetKind.IMAGE, frames=frames, source=t.name)
        for t in info.targets
        if t.enabled
    ]
    return SceneReport(
        info,
        unique(walker.assets),
        unique(outputs),
        tuple(walker.warnings),
        probed=tuple(dict.fromkeys(walker.probed)),
    )


def scene_info(scene: MayaAscii, path: str) -> SceneInfo:
    """Frame range, renderer, resolution, render layers and cameras of a parsed ``.ma``."""
    globals_ = scene.nodes.get("defaultRenderGlobals", MayaNode("", ""))
    renderer = globals_.string("ren", "currentRenderer") or maya_nodes.DEFAULT_RENDERER
    if globals_.number("an", "animation"):
        start = _frame(globals_.number("sf", "startFrame"), maya_nodes.DEFAULT_FRAMES[0])
        end = _frame(globals_.number("ef", "endFrame"), maya_nodes.DEFAULT_FRAMES[1])
        step = max(1, _frame(globals_.number("bfs", "byFrameStep"), 1))
        source = "render globals"
    elif scene.playback is not None:
        start, end, step = round(scene.playback[0]), round(scene.playback[1]), 1
        source = "time slider"
    else:
        (start, end), step, source = maya_nodes.DEFAULT_FRAMES, 1, "Maya defaults"
    resolution_node = scene.nodes.get("defaultResolution", MayaNode("", ""))
    width = _frame(resolution_node.number("w", "width"), maya_nodes.DEFAULT_RESOLUTION[0])
    height = _frame(resolution_node.number("h", "height"), maya_nodes.DEFAULT_RESOLUTION[1])
    cameras = tuple(
        node.parent or node.name
        for node in scene.of_type(maya_nodes.CAMERA_TYPE)
        if node.number("rnd", "renderable") != 0.0
    )
    extension = _extension(scene, globals_, renderer)
    prefix = globals_.string("ifp", "imageFilePrefix") or ""
    images = maya_paths.Project.at(find_workspace(path)).folder("images", "images")
    scene_name = os.path.splitext(os.path.basename(path))[0]
    layers = [
        node
        for node in scene.of_type(maya_nodes.RENDER_LAYER_TYPE)
        if ":" not in node.name and node.name != "defaultRenderLayer"
    ]
    layer_nodes = [scene.nodes.get("defaultRenderLayer", MayaNode("defaultRenderLayer", ""))]
    layer_nodes += layers
    camera = cameras[0] if cameras else ""
    targets = tuple(
        RenderTarget(
            name=node.name,
            kind="render_layer",
            cameras=cameras,
            output=output_pattern(images, prefix, scene_name, node.name, camera, extension),
            renderer=renderer,
            enabled=node.number("rndr", "renderable") != 0.0,
        )
        for node in layer_nodes
    )
    enabled = [t for t in targets if t.enabled] or list(targets)
    return SceneInfo(
        dcc="maya",
        scene_path=path,
        frame_start=start,
        frame_end=max(start, end),
        frame_step=step,
        fps=maya_nodes.fps_of(scene.time_unit),
        renderer=renderer,
        resolution=(width, height),
        targets=targets,
        cameras=cameras,
        output=enabled[0].output if enabled else "",
        output_format=extension,
        extra={
            "maya_version": scene.version,
            "frame_range_source": source,
            "time_unit": scene.time_unit,
            "image_prefix": prefix,
            "plugins": sorted(name for name in scene.requires if name != "maya"),
        },
    )


def output_pattern(
    images: str, prefix: str, scene: str, layer: str, camera: str, extension: str
) -> str:
    """Where Maya writes a layer's frames: ``<images>/<prefix>.####.<ext>``, tokens expanded."""
    layer_name = "masterLayer" if layer == "defaultRenderLayer" else layer
    tokens = {"scene": scene, "renderlayer": layer_name, "layer": layer_name, "camera": camera}
    name = re.sub(
        r"<(\w+)>", lambda m: tokens.get(m.group(1).lower(), m.group(0)), prefix or "<Scene>"
    )
    return os.path.join(images, f"{name}.####.{extension}")


def _frame(value: float | None, default: int) -> int:
    return default if value is None else round(value)


def _extension(scene: MayaAscii, globals_: MayaNode, renderer: str) -> str:
    if renderer == "arnold":
        driver = scene.nodes.get("defaultArnoldDriver")
        translator = driver.string("ai_translator", "aiTranslator") if driver else None
        return translator or "exr"
    key = globals_.string("imfkey", "imfPluginKey")
    if key:
        return key
    number = globals_.number("outf", "imageFormat")
    return maya_nodes.IMAGE_FORMATS.get(int(number) if number is not None else 7, "iff")


class _Walker:
    """Collects the files of a scene and of every scene it references."""

    def __init__(self, env: Mapping[str, str], workspace: str, frames: range) -> None:
        self.env = env
        self.project = maya_paths.Project.at(workspace)
        self.probed: list[str] = []
        self.frames = frames
        self.assets: list[Asset] = []
        self.warnings: list[str] = []
        self.visited: set[str] = set()

    def resolve(
        self, written: str, kind: AssetKind, scene_path: str, source: str, frames: range = range(0)
    ) -> Asset:
        """The dependency where Maya finds it (``maya_paths``: project, ``//``, beside)."""
        return maya_paths.resolve(
            written,
            kind,
            project=self.project,
            scene_path=scene_path,
            env=self.env,
            frames=frames,
            source=source,
            probed=self.probed,
        )

    def visit(self, scene: MayaAscii, namespace: str) -> None:
        self.visited.add(scene.path)
        self._textures(scene, namespace)
        direct = [r for r in scene.references if r.depth == 1]
        for reference in direct:
            self._reference(scene, reference, namespace)

    def _reference(self, scene: MayaAscii, reference: MayaReference, namespace: str) -> None:
        source = f"{namespace}{reference.ref_node} (file -r {reference.path!r})"
        if not reference.loaded:
            self.warnings.append(
                f"Reference {namespace}{reference.ref_node} ({reference.path}) is unloaded: "
                "it is not rendered, so its files are not listed."
            )
            return
        asset = self.resolve(reference.path, AssetKind.REFERENCE, scene.path, source)
        path = asset.path
        if "$" in path:
            self.warnings.append(f"{source}: a variable in {path} is not set.")
        self.assets.append(asset)
        child_namespace = f"{namespace}{reference.namespace}:" if reference.namespace else namespace
        if path in self.visited:
            return
        if path.lower().endswith(".ma") and os.path.isfile(path):
            try:
                self.visit(load_maya_ascii(path), child_namespace)
                return
            except InvalidInput as exc:
                self.warnings.append(f"{source}: {exc.message}")
        # Unreadable here (.mb, missing): what this file knows of the reference's own ones.
        for nested in scene.references:
            if nested.depth > 1 and nested.ref_node.startswith(f"{reference.namespace}:"):
                nested_source = f"{namespace}{nested.ref_node} (file -rdi {nested.path!r})"
                self.assets.append(
                    self.resolve(nested.path, AssetKind.REFERENCE, scene.path, nested_source)
                )

    def _textures(self, scene: MayaAscii, namespace: str) -> None:
        for attribute in maya_nodes.FILE_ATTRIBUTES:
            for node in scene.of_type(attribute.node_type):
                written = node.string(attribute.short, attribute.long)
                if not written:
                    continue
                pattern = maya_nodes.texture_pattern(
                    written,
                    uv_tiling_mode=int(node.number("uvt", "uvTilingMode") or 0),
                    use_frame_extension=bool(node.number("ufe", "useFrameExtension")),
                    pattern=node.string("ftnp", "fileTextureNamePattern") or "",
                )
                source = f"{namespace}{node.name}.{attribute.long}"
                asset = self.resolve(pattern, attribute.kind, scene.path, source, self.frames)
                self.assets.append(asset)
                tx = maya_nodes.arnold_tx(asset.path)
                if tx:
                    self.assets.append(
                        sequences.dependency(tx, attribute.kind, source=f"{source} (.tx)")
                    )
        for node in scene.of_type("cacheFile"):
            folder, name = node.string("cp", "cachePath"), node.string("cn", "cacheName")
            if folder and name:
                source = f"{namespace}{node.name}.cachePath"
                written = f"{folder.rstrip('/')}/{name}.xml"
                self.assets.append(self.resolve(written, AssetKind.CACHE, scene.path, source))
