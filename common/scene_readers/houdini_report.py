"""The ``SceneReport`` of a Houdini scene: file-reading nodes in, ROPs out.

Which parameters name files is known per operator type (Houdini knows it from each type's
parameter templates, which are not in the scene file) plus every spare parameter the scene
declares as a file, and texture parameters switched on (``basecolor_texture`` with
``basecolor_useTexture``). Files that ship with Houdini (``defcam.bgeo``, ``$HH/...``),
temporary (``temp:``) and embedded (``opdef:``) ones are not dependencies. Relative paths
are relative to ``$HIP``, where render scripts run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.houdini_rops import (
    NETWORK_ROP_TYPES,
    ROP_TYPES,
    VIEWER_OUTPUTS,
    RopFacts,
    RopRole,
    RopType,
    default_rop,
    frame_spec,
    output_parm,
)
from common.scene_readers import sequences
from common.scene_readers.houdini_expr import HoudiniContext, Unresolved
from common.scene_readers.houdini_hip import HipNode, HipScene, load_hip
from common.scene_readers.houdini_libraries import ships_with_houdini
from common.scene_readers.report import SceneReport, unique


@dataclass(frozen=True)
class FileParm:
    """A parameter naming a file the scene reads; ``when`` is ``(parm, values)`` that must
    hold (a missing ``parm`` counts as its first value)."""

    parm: str
    kind: AssetKind
    when: tuple[str, tuple[str, ...]] | None = None


INPUT_PARMS: dict[str, tuple[FileParm, ...]] = {
    "file": (
        FileParm("file", AssetKind.CACHE, ("filemode", ("read", "auto", "0", "1"))),
        FileParm("filename", AssetKind.IMAGE),
    ),
    "filemerge": (FileParm("file", AssetKind.CACHE),),
    "dopio": (FileParm("file", AssetKind.CACHE, ("loadfromdisk", ("on", "1"))),),
    "filecache": (FileParm("file", AssetKind.CACHE, ("loadfromdisk", ("on", "1"))),),
    "alembic": (FileParm("fileName", AssetKind.CACHE),),
    "alembicarchive": (FileParm("fileName", AssetKind.CACHE),),
    "alembicxform": (FileParm("fileName", AssetKind.CACHE),),
    "texture": (FileParm("map", AssetKind.IMAGE),),
    "pcopen": (FileParm("file", AssetKind.CACHE),),
    "envlight": (FileParm("env_map", AssetKind.IMAGE),),
    "font": (FileParm("file", AssetKind.OTHER, ("usefile", ("on", "1"))),),
    "attribfrommap": (FileParm("filename", AssetKind.IMAGE),),
    "sublayer": (FileParm("filepath1", AssetKind.REFERENCE),),
    "reference": (FileParm("filepath1", AssetKind.REFERENCE),),
    "usdimport": (FileParm("filepath1", AssetKind.CACHE),),
    "assetreference": (FileParm("filepath", AssetKind.REFERENCE),),
    "mtlximage": (FileParm("file", AssetKind.IMAGE),),
    "mtlxtiledimage": (FileParm("file", AssetKind.IMAGE),),
    "usduvtexture": (FileParm("file", AssetKind.IMAGE),),
    "arnold::image": (FileParm("filename", AssetKind.IMAGE),),
    "redshift::TextureSampler": (FileParm("tex0", AssetKind.IMAGE),),
    "redshift::NormalMap": (FileParm("tex0", AssetKind.IMAGE),),
    "redshift::Sprite": (FileParm("tex0", AssetKind.IMAGE),),
    "arnold_volume": (FileParm("ar_filename", AssetKind.CACHE),),
    "arnold_procedural": (FileParm("ar_filename", AssetKind.CACHE),),
}
"""Keys are type names without version (``file``), or with their namespace where the bare
name would be ambiguous (``arnold::image``, ``redshift::TextureSampler``)."""

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def _namespaced(node: HipNode) -> str:
    """``arnold::image`` for ``arnold::image`` and ``arnold::image::2.0``; "" without one."""
    parts = node.type.split("::")
    if len(parts) >= 2 and re.fullmatch(r"[\d.]+", parts[-1]):
        parts = parts[:-1]
    return "::".join(parts) if len(parts) >= 2 else ""


#: Files Houdini ships and finds on its own search path when no folder is given.
STOCK_FILES = frozenset({
    "defcam.bgeo", "defgeo.bgeo", "default.bgeo", "pointlight.bgeo", "defgeo.geo",
    "Mandril.pic", "default.pic", "butterfly1.pic", "butterfly2.pic",
})  # fmt: skip
#: Prefixes of paths that are not files on disk, or are Houdini's own.
NOT_FILES = ("temp:", "opdef:", "oplib:", "op:", "$HH/", "$HFS/", "${HH}/", "${HFS}/")
#: Mantra's rendering properties that name what a render writes (deep camera and shadow maps,
#: extra image planes) or its scratch folders (SideFX's Mantra rendering properties). Saved as
#: spare ``file`` parameters, they are never inputs, even on a render node the reader cannot
#: name (inside a locked render asset, whose children's types the scene does not keep).
RENDER_WRITES = frozenset({
    "vm_dcmfilename", "vm_dsmfilename", "vm_filename_plane#", "vm_tmplocalstorage",
    "vm_tmpsharedstorage",
})  # fmt: skip


def is_driver(scene: HipScene, node: HipNode) -> bool:
    """Whether ``node`` is in an output network (``/out``, a ROP network)."""
    parent = scene.node(node.parent_path)
    if node.parent_path == "/out":
        return True
    return parent is not None and (
        parent.base_type == "ropnet" or (parent.base_type == "subnet" and is_driver(scene, parent))
    )


def is_task_graph(scene: HipScene, node: HipNode) -> bool:
    """Whether ``node`` belongs to a PDG graph (its files are work items, known when PDG cooks;
    its render nodes are run by PDG, not submitted on their own)."""
    if node.path.startswith("/tasks/"):
        return True
    parts = node.path.split("/")
    return any(
        (ancestor := scene.node("/".join(parts[:i]))) is not None and ancestor.base_type == "topnet"
        for i in range(2, len(parts))
    )


def rop_kind(scene: HipScene, node: HipNode) -> RopType | None:
    """What ``node`` renders, when it is a render node."""
    kind = ROP_TYPES.get(node.base_type)
    if kind is None or not (is_driver(scene, node) or node.base_type in NETWORK_ROP_TYPES):
        return None
    return kind


def read_hip(path: str, env: Mapping[str, str] | None = None) -> SceneReport:
    """Everything a render of the Houdini scene at ``path`` reads and writes.

    Args:
        path: a ``.hip``, ``.hipnc`` or ``.hiplc`` file.
        env: the environment for ``$JOB`` and the like (``os.environ`` when None); the
            variables saved in the file are used for names it does not set.

    Raises:
        InvalidInput: the file cannot be read or is not a Houdini scene.
    """
    path = os.path.abspath(path)
    scene = load_hip(path)
    return _Reader(scene, HoudiniContext(scene, path, os.environ if env is None else env)).report()


class _Reader:
    def __init__(self, scene: HipScene, context: HoudiniContext) -> None:
        self.scene = scene
        self.context = context
        self.hip_dir = os.path.dirname(context.hip_path)
        self.warnings: list[str] = []
        self.unevaluated: set[str] = set()
        """Paths kept as written: expressions only Houdini evaluates."""

    def report(self) -> SceneReport:
        start, end = self.scene.frame_range
        frames = range(start, max(start, end) + 1)
        dependencies: list[Asset] = []
        targets: list[RenderTarget] = []
        outputs: list[Asset] = []
        rops: list[RopFacts] = []
        for node in self.scene.nodes.values():
            if node.bypass or is_task_graph(self.scene, node):
                continue
            rop = rop_kind(self.scene, node)
            if rop is not None:
                target, written, facts = self._rop(node, rop)
                targets.append(target)
                outputs += written
                rops.append(facts)
                continue
            for parm, kind in self._input_parms(node):
                path = self._path(node, parm)
                if path is not None:
                    dependencies.append(self._dependency(path, kind, frames, f"{node.path}/{parm}"))
        dependencies += self._libraries()
        for name in sorted(self.context.unknown):
            self.warnings.append(f"${name} is set neither in the scene nor in the environment.")
        chosen = default_rop(rops, self.scene.variables.get("DRIVERPATH", ""))
        default = next((t for t in targets if chosen and t.name == chosen.path), None)
        info = SceneInfo(
            dcc="houdini",
            scene_path=self.context.hip_path,
            frame_start=start,
            frame_end=max(start, end),
            fps=self.scene.fps,
            renderer=default.renderer if default else "",
            resolution=self._resolution(default.name) if default else (0, 0),
            targets=tuple(targets),
            cameras=tuple(
                n.path for n in self.scene.nodes.values() if n.base_type in ("cam", "stereocamrig")
            ),
            output=default.output if default else "",
            extra={
                "houdini_version": self.scene.variables.get("_HIP_SAVEVERSION", ""),
                "default_target": default.name if default else "",
                "target_frames": {r.path: frame_spec(r.frames) for r in rops if r.frames},
                "saved_hip": self.scene.variables.get("HIP", ""),
            },
        )
        return SceneReport(info, unique(dependencies), unique(outputs), tuple(self.warnings))

    def _dependency(self, path: str, kind: AssetKind, frames: range, source: str) -> Asset:
        """The file, or the frames of a sequence (``$F``, ``$F4``), checked on disk; a path
        Houdini alone evaluates is neither found nor missing."""
        if path in self.unevaluated:
            return Asset(path, kind, False, source=source, evaluated=False)
        return sequences.dependency(path, kind, frames=frames, source=source)

    def _libraries(self) -> list[Asset]:
        """The HDA libraries the scene records, but those that ship with Houdini."""
        hfs = self.context.variable("HFS", None) or ""
        found = []
        for library in self.scene.libraries:
            path = _VARIABLE.sub(
                lambda m: self.context.variable(m.group(1) or m.group(2), None) or m.group(0),
                library.path,
            )
            if ships_with_houdini(library.path, hfs) or ships_with_houdini(path, hfs):
                continue
            if not (sequences.is_windows_path(path) or os.path.isabs(path) or "$" in path):
                path = os.path.normpath(os.path.join(self.hip_dir, path))
            used_by = ", ".join(library.types) or "installed with the scene"
            source = f"HDA library ({used_by})"
            found.append(sequences.dependency(path, AssetKind.OTHER, source=source))
        return found

    def _input_parms(self, node: HipNode) -> list[tuple[str, AssetKind]]:
        found: list[tuple[str, AssetKind]] = []
        specs = INPUT_PARMS.get(node.base_type, ()) + INPUT_PARMS.get(_namespaced(node), ())
        for spec in specs:
            if spec.parm not in node.parms:
                continue
            if spec.when is not None:
                switch = node.value(spec.when[0])
                if switch is not None and switch not in spec.when[1]:
                    continue
            found.append((spec.parm, spec.kind))
        for parm in node.parms:
            if parm.endswith("_texture") and node.value(parm[:-8] + "_useTexture") in ("on", "1"):
                found.append((parm, AssetKind.IMAGE))
        named = {p for p, _ in found}
        spare = {
            p
            for p in node.spare_file_parms
            if not p.startswith("ogl_")  # viewport only
            and p not in RENDER_WRITES
        }
        found += [(p, AssetKind.OTHER) for p in sorted(spare - named)]
        return found

    def _path(self, node: HipNode, parm: str, *, output: bool = False) -> str | None:
        raw = node.value(parm) or ""
        if not raw.strip() or raw.startswith(NOT_FILES) or (output and raw in VIEWER_OUTPUTS):
            return None
        try:
            value = self.context.parm(node, parm)
        except Unresolved as exc:
            self.warnings.append(
                f"{node.path}/{parm} {raw!r} cannot be evaluated without Houdini ({exc}); "
                "it is listed as written, not evaluated (neither found nor missing)."
            )
            self.unevaluated.add(raw)
            return raw
        if not value.strip() or value.startswith(NOT_FILES) or value in VIEWER_OUTPUTS:
            return None
        if sequences.is_windows_path(value) or os.path.isabs(value) or value.startswith("$"):
            return value
        local = os.path.normpath(os.path.join(self.hip_dir, value))
        if "/" not in value and value in STOCK_FILES and not os.path.exists(local):
            return None
        return local

    def _rop(self, node: HipNode, rop: RopType) -> tuple[RenderTarget, list[Asset], RopFacts]:
        first, last, step = self._rop_frames(node)
        frames = range(first, last + 1, step)
        parm = output_parm(node.base_type, node.value("soho_outputmode") or "")
        path = self._path(node, parm, output=True)
        outputs = []
        if path is not None:
            pictures = AssetKind.IMAGE if rop.role is RopRole.PICTURES else AssetKind.CACHE
            kind = pictures if parm == rop.output_parm else AssetKind.OTHER
            outputs.append(
                sequences.output(path, kind, frames=frames, source=f"{node.path}/{parm}")
            )
        to_viewer = node.value(parm) in VIEWER_OUTPUTS - {""}
        if to_viewer:
            self.warnings.append(
                f"{node.path} renders to a viewer ({node.value(parm)}), not to files: "
                "set its output picture to render it on the farm."
            )
        camera = self._camera(node, rop)
        target = RenderTarget(
            name=node.path,
            kind="rop",
            cameras=(camera,) if camera else (),
            output=path or "",
            renderer=rop.renderer,
            enabled=not node.bypass and not to_viewer,
        )
        facts = RopFacts(
            node.path, node.base_type, node.bypass, parm, path or "", (first, last, step)
        )
        return target, outputs, facts

    def _rop_frames(self, node: HipNode) -> tuple[int, int, int]:
        mode = node.value("trange") or "off"
        if mode in ("off", "0"):
            current = self.scene.current_frame
            return current, current, 1
        try:
            first = round(float(self.context.parm(node, "f1")))
            last = round(float(self.context.parm(node, "f2")))
            step = max(1, round(float(self.context.parm(node, "f3") or 1)))
        except (Unresolved, ValueError) as exc:
            self.warnings.append(f"{node.path}: frame range not evaluated ({exc}).")
            first, last = self.scene.frame_range
            step = 1
        return first, max(first, last), step

    def _camera(self, node: HipNode, rop: RopType) -> str:
        """The camera the render node renders through (its type's camera parameter)."""
        name = rop.camera_parm
        try:
            return self.context.parm(node, name) if name and name in node.parms else ""
        except Unresolved:
            return node.value(name) or ""

    def _resolution(self, rop_path: str) -> tuple[int, int]:
        rop = self.scene.node(rop_path)
        kind = rop_kind(self.scene, rop) if rop else None
        camera = self.scene.node(self._camera(rop, kind)) if rop and kind else None
        width = height = 0
        if camera is not None and camera.value("res", 1) is not None:
            width = round(float(camera.value("res", 0) or 0))
            height = round(float(camera.value("res", 1) or 0))
        if rop is not None and rop.value("override_camerares") in ("on", "1"):
            fraction = rop.value("res_fraction") or "specific"
            if fraction == "specific" and rop.value("res_override", 1) is not None:
                width = round(float(rop.value("res_override", 0) or 0))
                height = round(float(rop.value("res_override", 1) or 0))
            elif re.fullmatch(r"[\d.]+", fraction):
                width, height = round(width * float(fraction)), round(height * float(fraction))
        return width, height
