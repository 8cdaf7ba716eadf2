"""A local cache of scene reports, so re-scanning an unchanged scene reads no scene file.

One SQLite row per scene file holds its ``SceneReport`` (as JSON) and what the report was
built from: the ``(size, mtime_ns)`` of the scene file, of every dependency and output file it
names (found or missing) and of the folders of its sequences and tile sets (a file that
appears in a folder changes the folder's mtime), and the values of the environment variables
the reader looked up. A lookup hits only when every one of them is still the same, so a
texture that changes, appears or disappears, or a ``$JOB`` that now points elsewhere, makes
the scene read again. The check is one ``stat`` per file, with no file opened.

The reports are kept in a ``StampCache`` (``common.stamp_cache``), keyed by the scene file, as
``common.data.hash_cache`` keeps file hashes; as there, a report is not stored when any of
those files was written less than ``racy_window_s`` ago.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from common import __version__
from common.host import Asset, AssetKind, RenderTarget, SceneInfo
from common.scene_readers.report import SceneReport
from common.scene_readers.sequences import has_frame_token, has_tile_token
from common.stamp_cache import StampCache, file_stamp

logger = logging.getLogger(__name__)

#: Changes when the stored form changes, so older rows are never read as newer ones.
FORMAT = f"4/{__version__}"

Reader = Callable[[str, Mapping[str, str] | None], SceneReport]


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers which variables were looked up, and their values.

    A reader that walks the whole environment makes ``everything`` true: then the report is
    valid only for the very same environment.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.seen: dict[str, str | None] = {}
        self.everything = False

    def __getitem__(self, key: str) -> str:
        value = self._env.get(key)
        self.seen[key] = value
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.seen[key] = self._env.get(key)
        return key in self._env

    def __iter__(self) -> Iterator[str]:
        self.everything = True
        return iter(self._env)

    def __len__(self) -> int:
        self.everything = True
        return len(self._env)

    def recorded(self) -> dict[str, str | None]:
        """The variables looked up and their values (all of them when ``everything``)."""
        return dict(self._env) if self.everything else dict(self.seen)


class ScanCache:
    """Scene reports remembered by the stat of every file they depend on. Thread-safe.

    ``hits`` and ``reads`` count lookups answered from the cache and scenes actually read.
    """

    def __init__(
        self,
        db_path: Path | None,
        *,
        racy_window_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Opens (and creates) the cache.

        Args:
            db_path: the SQLite file; None keeps the cache in memory for this object only.
            racy_window_s: reports depending on a file modified more recently are not stored.
            clock: the wall clock, in seconds (compared with files' modification times).
        """
        self._cache = StampCache(
            db_path, version=FORMAT, racy_window_s=racy_window_s, clock=clock, replaces=("scans",)
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.reads = 0

    def close(self) -> None:
        """Closes the database."""
        self._cache.close()

    def __enter__(self) -> ScanCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, path: str, reader: Reader, env: Mapping[str, str] | None = None) -> SceneReport:
        """The report of the scene at ``path``: from the cache when nothing it used changed.

        Args:
            path: the scene file (made absolute; the cache key).
            reader: reads the scene when the cache cannot answer (``read_scene``).
            env: the environment the reader expands paths with (``os.environ`` when None).

        Raises:
            Whatever ``reader`` raises; nothing is stored then.
        """
        key = os.path.abspath(path)
        environment: Mapping[str, str] = os.environ if env is None else env
        cached = self._lookup(key, environment)
        if cached is not None:
            with self._lock:
                self.hits += 1
            logger.debug("%s: scan from the cache", key)
            return cached
        recording = RecordingEnv(environment)
        report = reader(key, recording)
        with self._lock:
            self.reads += 1
        self._store(key, report, recording.recorded())
        return report

    def _lookup(self, key: str, env: Mapping[str, str]) -> SceneReport | None:
        stored = self._cache.get(key, file_stamp(key))
        if stored is None:
            return None
        entry = json.loads(stored)
        if any(env.get(name) != value for name, value in entry["env"].items()):
            return None
        return report_from_dict(entry["report"])

    def _store(self, key: str, report: SceneReport, variables: dict[str, str | None]) -> None:
        also = {path: file_stamp(path) for path in watched_paths(key, report) if path != key}
        entry = json.dumps({"env": variables, "report": report.to_dict()})
        if not self._cache.put(key, file_stamp(key), entry, also):
            logger.debug("%s: not cached, a file it uses changed moments ago", key)


def watched_paths(scene: str, report: SceneReport) -> list[str]:
    """Every path whose stat the report depends on: the scene, each file named (found or
    missing), the folder of each sequence or tile set, and each place looked in for a file
    (for a sequence or tile set, its folder, whose mtime changes when a file appears)."""
    paths = {scene: None}
    for probed in report.probed:
        paths[(os.path.dirname(probed) or ".") if _is_pattern(probed) else probed] = None
    for asset in (*report.dependencies, *report.outputs):
        paths[asset.path] = None
        for file in (*asset.files, *asset.missing_files):
            paths[file] = None
        if asset.files or asset.missing_files or _is_pattern(asset.path):
            for file in (asset.path, *asset.files, *asset.missing_files):
                paths[os.path.dirname(file) or "."] = None
    return list(paths)


def _is_pattern(path: str) -> bool:
    return has_frame_token(path) or has_tile_token(path) or "*" in path


def report_from_dict(data: Mapping[str, Any]) -> SceneReport:
    """The ``SceneReport`` that ``SceneReport.to_dict()`` turned into ``data``."""
    info = dict(data["info"])
    info["resolution"] = tuple(info["resolution"])
    info["cameras"] = tuple(info["cameras"])
    info["targets"] = tuple(
        RenderTarget(**{**t, "cameras": tuple(t["cameras"])}) for t in info["targets"]
    )
    return SceneReport(
        info=SceneInfo(**info),
        dependencies=tuple(_asset(a) for a in data["dependencies"]),
        outputs=tuple(_asset(a) for a in data["outputs"]),
        warnings=tuple(data["warnings"]),
        probed=tuple(data.get("probed", ())),
    )


def _asset(data: Mapping[str, Any]) -> Asset:
    fields = {f.name for f in dataclasses.fields(Asset)}
    values = {k: v for k, v in data.items() if k in fields}
    values["kind"] = AssetKind(values["kind"])
    values["files"] = tuple(values.get("files", ()))
    values["missing_files"] = tuple(values.get("missing_files", ()))
    return Asset(**values)
