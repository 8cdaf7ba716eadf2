"""The ``SceneReport`` of a Nuke script: Reads and the like in, Write nodes out."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from common.errors import InvalidInput
from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.scene_readers import sequences
from common.scene_readers.nuke_script import NukeNode, NukeScript, parse_nuke_script
from common.scene_readers.nuke_tcl import (
    PythonNotEvaluated,
    TclContext,
    Unresolved,
    evaluate,
    split_list,
)
from common.scene_readers.report import SceneReport, unique


@dataclass(frozen=True)
class FileKnob:
    """A knob of a node class naming a file the render reads (``when``: a boolean knob that
    must be on for the file to be used)."""

    node_class: str
    knob: str
    kind: AssetKind
    when: str = ""


INPUT_KNOBS: tuple[FileKnob, ...] = (
    FileKnob("Read", "file", AssetKind.IMAGE),
    FileKnob("DeepRead", "file", AssetKind.IMAGE),
    FileKnob("ReadGeo", "file", AssetKind.CACHE),
    FileKnob("ReadGeo2", "file", AssetKind.CACHE),
    FileKnob("ParticleCache", "file", AssetKind.CACHE),
    FileKnob("Camera", "file", AssetKind.CACHE, when="read_from_file"),
    FileKnob("Camera2", "file", AssetKind.CACHE, when="read_from_file"),
    FileKnob("Camera3", "file", AssetKind.CACHE, when="read_from_file"),
    FileKnob("Axis2", "file", AssetKind.CACHE, when="read_from_file"),
    FileKnob("Axis3", "file", AssetKind.CACHE, when="read_from_file"),
    FileKnob("OCIOFileTransform", "file", AssetKind.OTHER),
    FileKnob("OCIOCDLTransform", "file", AssetKind.OTHER, when="read_from_file"),
    FileKnob("Vectorfield", "vfield_file", AssetKind.OTHER),
    FileKnob("Precomp", "file", AssetKind.REFERENCE),
    FileKnob("AudioRead", "file", AssetKind.AUDIO),
)
#: Node classes whose ``file`` knob is written by the render, and what they write.
OUTPUT_CLASSES: dict[str, AssetKind] = {
    "Write": AssetKind.IMAGE,
    "DeepWrite": AssetKind.IMAGE,
    "WriteGeo": AssetKind.CACHE,
}
#: Classes with a ``proxy`` knob used instead of ``file`` in proxy mode.
PROXY_CLASSES = frozenset({"Read", "Write"})
#: Sizes of the format names Nuke ships, for a ``format`` written by name only.
FORMATS: dict[str, tuple[int, int]] = {
    "PC_Video": (640, 480), "NTSC": (720, 486), "PAL": (720, 576), "HD_720": (1280, 720),
    "HD_1080": (1920, 1080), "UHD_4K": (3840, 2160), "1K_Super_35(full-ap)": (1024, 778),
    "2K_Super_35(full-ap)": (2048, 1556), "4K_Super_35(full-ap)": (4096, 3112),
    "2K_DCP": (2048, 1080), "4K_DCP": (4096, 2160), "square_1K": (1024, 1024),
    "square_2K": (2048, 2048), "square_4K": (4096, 4096),
}  # fmt: skip


def load_nuke_script(path: str) -> NukeScript:
    """Parses the ``.nk`` file at ``path``.

    Raises:
        InvalidInput: the file cannot be read or holds no Nuke nodes.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError as exc:
        raise InvalidInput(f"Cannot read the Nuke script {path}: {exc.strerror or exc}.") from None
    return parse_nuke_script(text, path)


def views_of(script: NukeScript) -> list[str]:
    """The script's views (``main`` when it has no ``views`` knob)."""
    written = script.root.knobs.get("views", "")
    names = [split_list(item)[0] for item in split_list(written) if item.strip()]
    return names or ["main"]


def expand_views(path: str, views: list[str]) -> list[str]:
    """One path per view for ``%V`` (the view's name) and ``%v`` (its first letter)."""
    if "%V" not in path and "%v" not in path:
        return [path]
    return [path.replace("%V", view).replace("%v", view[:1]) for view in views]


def resolution_of(format_knob: str) -> tuple[int, int]:
    """Width and height of a ``format`` knob: ``"1920 1080 0 0 1920 1080 1 HD"`` or a name."""
    numbers = re.match(r"\s*(\d+)\s+(\d+)", format_knob)
    if numbers:
        return int(numbers.group(1)), int(numbers.group(2))
    return FORMATS.get(format_knob.strip(), (0, 0))


def read_frames(
    render: range,
    first: int,
    last: int,
    *,
    before: str = "hold",
    after: str = "hold",
    frame_mode: str = "",
    offset: int = 0,
) -> list[int]:
    """The frames of a Read's files that rendering ``render`` needs.

    Outside its ``first``-``last`` range a Read holds its end frames (``hold``, the default)
    or gives black; ``frame_mode`` ``start at`` / ``offset`` with ``offset`` shifts the clip.
    """
    last = max(first, last)
    shift = {"start at": offset - first, "offset": offset}.get(frame_mode, 0)
    frames: set[int] = set()
    for frame in render:
        wanted = frame - shift
        if (before == "black" and wanted < first) or (after == "black" and wanted > last):
            continue
        frames.add(min(max(wanted, first), last))
    return sorted(frames)


def read_nuke_script(path: str, env: Mapping[str, str] | None = None) -> SceneReport:
    """Everything a render of the Nuke script at ``path`` reads and writes.

    Args:
        path: the script.
        env: variables for ``[getenv X]`` and ``$env(X)`` (``os.environ`` when None).

    Raises:
        InvalidInput: the file cannot be read or is not a Nuke script.
    """
    path = os.path.abspath(path)
    script = load_nuke_script(path)
    return _Reader(script, path, os.environ if env is None else env).report()


class _Reader:
    def __init__(self, script: NukeScript, path: str, env: Mapping[str, str]) -> None:
        self.script = script
        self.context = TclContext(script, path, env)
        self.root = script.root
        self.first = self.root.integer("first_frame", 1)
        self.last = max(self.first, self.root.integer("last_frame", 100))
        self.proxy = self.root.flag("proxy")
        self.views = views_of(script)
        self.warnings: list[str] = []
        folder = self._evaluate(self.root, "project_directory") or ""
        self.project_dir = folder if folder else os.path.dirname(path)

    def report(self) -> SceneReport:
        dependencies: list[Asset] = []
        for spec in INPUT_KNOBS:
            for node in self.script.of_class(spec.node_class):
                if node.flag("disable") or (spec.when and not node.flag(spec.when)):
                    continue
                knob = "proxy" if self.proxy and node.cls in PROXY_CLASSES else spec.knob
                frames = self._read_frames(node)
                for path in self._paths(node, knob):
                    source = f"{node.full_name}.{knob}"
                    dependencies.append(
                        sequences.dependency(path, spec.kind, frames=frames, source=source)
                    )
        if self.root.knobs.get("OCIO_config") == "custom":
            for path in self._paths(self.root, "customOCIOConfigPath"):
                source = "root.customOCIOConfigPath"
                dependencies.append(sequences.dependency(path, AssetKind.OTHER, source=source))
        targets, outputs, ranges = self._writes()
        enabled = [t for t in targets if t.enabled]
        output_format = self._format_of(enabled[0]) if enabled else ""
        info = SceneInfo(
            dcc="nuke",
            scene_path=self.context.script_path,
            frame_start=self.first,
            frame_end=self.last,
            fps=float(self.root.knobs.get("fps", "24") or 24),
            renderer="nuke",
            resolution=resolution_of(self.root.knobs.get("format", "")),
            targets=tuple(targets),
            output=enabled[0].output if enabled else "",
            output_format=output_format,
            extra={
                "nuke_version": self.script.version,
                "views": self.views,
                "proxy": self.proxy,
                "target_frames": ranges,
                "saved_as": self.root.knobs.get("name", ""),
            },
        )
        return SceneReport(info, unique(dependencies), unique(outputs), tuple(self.warnings))

    def _writes(self) -> tuple[list[RenderTarget], list[Asset], dict[str, str]]:
        targets: list[tuple[int, RenderTarget]] = []
        outputs: list[Asset] = []
        ranges: dict[str, str] = {}
        for node in self.script.of_class(*OUTPUT_CLASSES):
            knob = "proxy" if self.proxy and "proxy" in node.knobs else "file"
            paths = self._paths(node, knob, views=self._write_views(node))
            pattern = self._absolute(self._evaluate(node, knob) or "")
            first, last = self.first, self.last
            if node.flag("use_limit"):
                first, last = node.integer("first", first), node.integer("last", last)
            ranges[node.full_name] = f"{first}-{last}"
            enabled = not node.flag("disable")
            target = RenderTarget(node.full_name, "write", output=pattern, renderer="nuke",
                                  enabled=enabled)  # fmt: skip
            targets.append((node.integer("render_order", 1), target))
            if enabled:
                kind = OUTPUT_CLASSES[node.cls]
                frames = range(first, last + 1)
                source = f"{node.full_name}.{knob}"
                outputs += [sequences.output(p, kind, frames=frames, source=source) for p in paths]
        targets.sort(key=lambda pair: pair[0])
        return [t for _, t in targets], outputs, ranges

    def _format_of(self, target: RenderTarget) -> str:
        """The file type of the Write that renders ``target``: its ``file_type``, else (as
        Nuke does) the extension of its file."""
        node = next(n for n in self.script.of_class(*OUTPUT_CLASSES) if n.full_name == target.name)
        written = node.knobs.get("file_type", "").strip()
        return written or os.path.splitext(target.output)[1].lstrip(".").lower()

    def _write_views(self, node: NukeNode) -> list[str]:
        written = node.knobs.get("views")
        return split_list(written) if written else self.views

    def _read_frames(self, node: NukeNode) -> list[int]:
        first = node.integer("first", 1)
        return read_frames(
            range(self.first, self.last + 1),
            first,
            node.integer("last", first),
            before=node.knobs.get("before", "hold"),
            after=node.knobs.get("after", "hold"),
            frame_mode=node.knobs.get("frame_mode", ""),
            offset=node.integer("frame", 0),
        )

    def _evaluate(self, node: NukeNode, knob: str) -> str | None:
        raw = node.knobs.get(knob)
        if raw is None or not raw.strip():
            return None
        try:
            return evaluate(raw, self.context, node)
        except PythonNotEvaluated as exc:
            warning = (
                f"{node.full_name}.{knob} {raw!r} runs [python {exc.code}]: Python is not "
                "evaluated without Nuke; it is listed as written."
            )
        except (Unresolved, ValueError, IndexError) as exc:
            warning = (
                f"{node.full_name}.{knob} {raw!r} cannot be evaluated without Nuke ({exc}); "
                "it is listed as written."
            )
        if warning not in self.warnings:
            self.warnings.append(warning)
        return raw

    def _absolute(self, path: str) -> str:
        unevaluated = "[" in path
        if not path or unevaluated or sequences.is_windows_path(path) or os.path.isabs(path):
            return path
        return os.path.normpath(os.path.join(self.project_dir, path))

    def _paths(self, node: NukeNode, knob: str, views: list[str] | None = None) -> list[str]:
        value = self._evaluate(node, knob)
        if not value:
            return []
        return [self._absolute(p) for p in expand_views(value, views or self.views)]
