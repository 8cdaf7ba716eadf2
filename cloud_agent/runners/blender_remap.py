"""Repoints an open .blend's external files to this render node. Runs INSIDE Blender.

``blender -b scene.blend --python blender_remap.py -o ... -a``: Blender (or
``cloudburst-blender``) has loaded the scene, and this script runs before the render. It reads
the path-map file named by ``$CLOUDBURST_PATH_MAP`` (format: ``path_map_file.py``) and

1. repoints each library (``bpy.data.libraries``), then reloads it so that linked data comes
   from the new place; indirect libraries once their parent is done;
2. repoints every other file path Blender knows (``bpy.data.file_path_foreach``: images with
   their sequences and ``<UDIM>`` tiles, movie clips, sounds, fonts, volumes, cache files,
   texts, and paths held by modifiers, sequencer strips and nodes). Before Blender 5.0, which
   lacks ``file_path_foreach``, the data-block collections that have a ``filepath`` are walked.

A ``//`` path is resolved against the ORIGINAL studio location of its .blend (the map's
``scene``; for linked data, its library's studio path), then mapped: exact file entries first,
then the longest prefix rule. Each remapped path is printed, then ``[cloudburst] remapped N
path(s)``. A file the scene needs that is neither mapped nor present here is printed, and the
script exits with code 1 before anything renders: a missing texture or library renders a
wrong picture without Blender failing. Folders that may not exist yet (simulation caches) and
sounds and texts only get a warning. Without ``$CLOUDBURST_PATH_MAP`` nothing is remapped and
the same check runs.

Only ``bpy``, ``os``, ``json`` and ``sys`` are imported: real Blender's Python does not have
Cloudburst's packages (nor pydantic), hence the copy of the lookup below. ``bpy`` is imported
in ``main`` so that tests can import the pure helpers without it.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # typing is never imported when Blender runs this file
if TYPE_CHECKING:
    from typing import Any

PATH_MAP_ENV = "CLOUDBURST_PATH_MAP"
TAG = "[cloudburst]"
#: ID types whose missing file always spoils the render (others: only when it names a file).
REQUIRED_TYPES = frozenset({"IMAGE", "LIBRARY", "MOVIECLIP", "VOLUME", "CACHEFILE", "FONT"})
#: ID types whose files never change the rendered images.
OPTIONAL_TYPES = frozenset({"SOUND", "TEXT"})
KIND_NAMES = {"MOVIECLIP": "movie clip", "CACHEFILE": "cache file", "NODETREE": "node group"}
FOREACH_FLAGS = {"SKIP_PACKED", "SKIP_WEAK_REFERENCES", "RELOAD_EDITED"}
#: Collections walked when ``bpy.data.file_path_foreach`` is missing (before Blender 5.0).
FALLBACK_COLLECTIONS = (
    "images", "movieclips", "sounds", "fonts", "volumes", "cache_files", "texts",
)  # fmt: skip


# --- the lookup --------------------------------------------------------------------------------
# A copy of cloud_agent.runners.path_map_file's split_path / _key / index_files / lookup: this
# file runs in Blender's own Python, which cannot import Cloudburst (nor its pydantic).
# tests/cloud_agent/runners/test_blender_remap.py checks both give the same answers.


def split_path(path: str) -> tuple[str, list[str]]:
    """``(anchor, components)``: anchor ``/``, ``C:``, ``//`` (UNC) or ``""`` (relative)."""
    text = path.replace("\\", "/")
    if text.startswith("//"):
        anchor, rest = "//", text[2:]
    elif len(text) >= 2 and text[1] == ":" and text[0].isalpha() and text[0].isascii():
        anchor, rest = text[0].upper() + ":", text[2:]
    elif text.startswith("/"):
        anchor, rest = "/", text
    else:
        anchor, rest = "", text
    parts: list[str] = []
    for part in rest.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part != ".." or not anchor:
            parts.append(part)
    return anchor, parts


def normalise(path: str) -> str:
    """``path`` with ``/`` separators, no redundant components and an upper-case drive."""
    anchor, parts = split_path(path)
    if anchor == "/":
        return "/" + "/".join(parts)
    if anchor.endswith(":"):
        return anchor + "/" + "/".join(parts)
    return anchor + "/".join(parts)


def _key(anchor: str, parts: list[str]) -> tuple[str, ...]:
    if anchor in ("/", ""):
        return (anchor, *parts)
    return (anchor, *(part.casefold() for part in parts))


def index_files(files: dict[str, str]) -> dict[tuple[str, ...], str]:
    """The ``files`` table keyed by normalised components."""
    return {_key(*split_path(studio)): local for studio, local in files.items()}


def lookup(
    path: str, files: dict[tuple[str, ...], str], rules: list[tuple[str, str]]
) -> str | None:
    """The local path of ``path``: its file entry, else the longest matching rule's; or None."""
    anchor, parts = split_path(path)
    key = _key(anchor, parts)
    if key in files:
        return files[key]
    best: tuple[int, str] | None = None
    for studio, local in rules:
        rule_key = _key(*split_path(studio))
        if key[: len(rule_key)] == rule_key and (best is None or len(rule_key) > best[0]):
            best = (len(rule_key), local)
    if best is None:
        return None
    length, local = best
    rest = parts[length - 1 :]
    if not rest:
        return local
    separator = "\\" if "\\" in local else "/"
    return local.rstrip("/\\") + separator + separator.join(rest)


# --- paths as Blender writes them ----------------------------------------------------------------


def studio_path(path: str, blend: str | None) -> str | None:
    """``path`` made absolute: ``//`` is the folder of ``blend`` (a studio path); None when
    ``path`` is relative and ``blend`` unknown."""
    if not path.startswith("//"):
        return path if split_path(path)[0] else None
    if not blend:
        return None
    anchor, parts = split_path(blend)
    start = anchor + "/" if anchor.endswith(":") else anchor
    return normalise(start + "/".join([*parts[:-1], path[2:]]))


def tile_name(name: str, number: int) -> str:
    """A UDIM tile's file name from a name holding ``<UDIM>`` or ``<UVTILE>``."""
    u, v = (number - 1001) % 10 + 1, (number - 1001) // 10 + 1
    return name.replace("<UDIM>", str(number)).replace("<UVTILE>", f"u{u}_v{v}")


def present(path: str, tiles: list[int], sequence: bool) -> bool:
    """Whether a file (all its UDIM tiles; for a sequence, some frame of it) is here."""
    folder, name = os.path.split(path)
    if "<UDIM>" in name or "<UVTILE>" in name:
        if not tiles:
            return os.path.isdir(folder)
        return all(os.path.isfile(os.path.join(folder, tile_name(name, n))) for n in tiles)
    if os.path.exists(path):
        return True
    if not sequence:
        return False
    stem, extension = os.path.splitext(name)
    head = stem.rstrip("0123456789")
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return False
    return any(n.startswith(head) and n.endswith(extension) for n in names)


def say(text: str) -> None:
    print(f"{TAG} {text}", flush=True)


# --- the remapping -------------------------------------------------------------------------------


class Remapper:
    """Repoints the open file's paths through one path map; counts and remembers problems."""

    def __init__(
        self, bpy: Any, scene: str | None, files: dict[str, str], rules: list[tuple[str, str]]
    ) -> None:
        self.bpy = bpy
        self.scene = scene
        self.files = index_files(files)
        self.rules = rules
        self.remapped = 0
        self.missing: list[str] = []
        self.library_studio: dict[str, str | None] = {}
        """Each library's studio path (by name): where its own ``//`` paths start."""

    def map(self, path: str, blend: str | None) -> tuple[str | None, str | None]:
        """``(studio path, local path)``; either is None when unknown."""
        studio = studio_path(path, blend)
        if studio is None or not (self.files or self.rules):
            return studio, None
        return studio, lookup(studio, self.files, self.rules)

    def remap_libraries(self) -> None:
        """Repoints and reloads libraries, parents before the libraries they link."""
        libraries = self.bpy.data.libraries
        for _ in range(len(libraries) + 10):
            progressed = False
            for library in list(libraries):
                parent = library.parent
                if library.name in self.library_studio or (
                    parent is not None and parent.name not in self.library_studio
                ):
                    continue
                progressed = True
                base = self.scene if parent is None else self.library_studio[parent.name]
                studio, local = self.map(library.filepath, base)
                self.library_studio[library.name] = studio
                if library.packed_file is not None:
                    continue
                new = self._resolve(library, library.filepath, studio, local)
                if new is not None:
                    library.filepath = new
                    library.reload()
            if not progressed:
                return

    def remap_paths(self) -> None:
        """Repoints every other path of every data-block (local and linked)."""
        data = self.bpy.data
        if hasattr(data, "file_path_foreach"):

            def visit(block: Any, path: str, meta: object) -> str | None:
                return self._visit(block, path, meta)  # it takes functions, not methods

            data.file_path_foreach(visit, flags=FOREACH_FLAGS)
            return
        for name in FALLBACK_COLLECTIONS:
            for block in getattr(data, name, ()):
                if getattr(block, "packed_file", None) is not None:
                    continue
                new = self._visit(block, block.filepath, None)
                if new is None:
                    continue
                try:
                    block.filepath = new
                except (AttributeError, TypeError, RuntimeError) as exc:
                    self._missing(block, block.filepath, f"cannot be repointed here ({exc})")
                    continue
                if hasattr(block, "reload"):
                    block.reload()

    def _visit(self, block: Any, path: str, _meta: object) -> str | None:
        if block.id_type == "LIBRARY" or not path or path.startswith("<"):  # "<builtin>" font
            return None
        library = block.library
        base = self.scene if library is None else self.library_studio.get(library.name)
        studio, local = self.map(path, base)
        return self._resolve(block, path, studio, local)

    def _resolve(self, block: Any, path: str, studio: str | None, local: str | None) -> str | None:
        """The new path of one reference (None: keep it), after checking the file is here."""
        tiles = [tile.number for tile in getattr(block, "tiles", ())]
        sequence = getattr(block, "source", "") == "SEQUENCE" or bool(
            getattr(block, "is_sequence", False)
        )
        if local is None:
            here = self.bpy.path.abspath(path, library=_owner_library(block))
            if not present(here, tiles, sequence):
                mapped = self.rules or self.files
                where = "in the path map, nor on this node" if mapped else "on this node"
                self._missing(block, studio or path, f"is not {where}")
            return None
        if not present(local, tiles, sequence):
            self._missing(block, studio or path, f"maps to {local}, which is not on this node")
            return None
        if local == path:
            return None
        self.remapped += 1
        say(f"remapped {_describe(block)}: {path} -> {local}")
        return local

    def _missing(self, block: Any, path: str, why: str) -> None:
        if _required(block, path):
            self.missing.append(f"{_describe(block)} {path}")
            say(f"MISSING {_describe(block)}: {path} {why}")
        else:
            say(f"warning: {_describe(block)}: {path} {why} (ignored: not needed to render)")


def _owner_library(block: Any) -> Any:
    """The library a path of ``block`` is relative to (a library's own: its parent's)."""
    return block.parent if block.id_type == "LIBRARY" else block.library


def _describe(block: Any) -> str:
    kind = KIND_NAMES.get(block.id_type, block.id_type.lower().replace("_", " "))
    return f"{kind} {block.name_full!r}"


def _required(block: Any, path: str) -> bool:
    if block.id_type in REQUIRED_TYPES:
        return True
    if block.id_type in OPTIONAL_TYPES:
        return False
    return bool(os.path.splitext(os.path.basename(path.rstrip("/\\")))[1])  # a file, not a folder


def read_map(path: str) -> tuple[str | None, dict[str, str], list[tuple[str, str]]]:
    """``(scene, files, rules)`` of a path-map file.

    Raises:
        ValueError: the file is not a path map. OSError: it cannot be read.
    """
    with open(path, encoding="utf-8") as stream:
        data = json.load(stream)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    files = data.get("files") or {}
    rules = [(str(studio), str(local)) for studio, local in data.get("rules") or ()]
    scene = data.get("scene")
    if not isinstance(files, dict) or (scene is not None and not isinstance(scene, str)):
        raise ValueError('"files" must be an object and "scene" a string')
    return scene, {str(k): str(v) for k, v in files.items()}, rules


def main() -> int:
    """Remaps the open file; returns the exit code (1: a needed file is missing)."""
    import bpy

    map_path = os.environ.get(PATH_MAP_ENV, "")
    scene: str | None = None
    files: dict[str, str] = {}
    rules: list[tuple[str, str]] = []
    if map_path:
        try:
            scene, files, rules = read_map(map_path)
        except (OSError, ValueError) as exc:
            print(f"Error: {TAG} cannot read the path map {map_path}: {exc}", flush=True)
            return 1
        say(f"path map {map_path}: {len(files)} file(s), {len(rules)} rule(s), scene {scene}")
    else:
        say(f"no path map (${PATH_MAP_ENV} is not set): checking the scene's files are here")
    remapper = Remapper(bpy, scene, files, rules)
    remapper.remap_libraries()
    remapper.remap_paths()
    say(f"remapped {remapper.remapped} path(s)")
    if remapper.missing:
        listed = "; ".join(remapper.missing[:5])
        more = f" and {len(remapper.missing) - 5} more" if len(remapper.missing) > 5 else ""
        print(
            f"Error: {TAG} {len(remapper.missing)} file(s) the scene needs are not on this "
            f"node: {listed}{more}. Not rendering: the picture would be wrong. Add them to the "
            "job's files, or fix their paths in the scene.",
            flush=True,
        )
        return 1
    return 0


def run() -> None:
    """The script's entry point: exits Blender on failure, returns to let it render."""
    try:
        code = main()
    except Exception as exc:  # A bug here must not let a wrong picture render.
        sys.excepthook(type(exc), exc, exc.__traceback__)
        print(f"Error: {TAG} remapping the scene's paths failed: {exc!r}", flush=True)
        code = 1
    if code:
        sys.exit(code)  # Ends Blender before it renders; 0 must not exit, the render follows.


if __name__ == "__main__":
    run()
