"""The artist's panel choices, remembered per scene in a JSON file.

The file is ``panel-settings.json`` in the user's Cloudburst config folder
(``~/.config/cloudburst`` on Linux), shared by every DCC. Only the choices that differ from the
scene's own values are kept, so a scene whose frame range changes later still follows it
unless the artist typed a range. The most recent ``MAX_SCENES`` scenes are kept.

Presets are kept per show (the job's project) in the same file: a named set of the choices
that do not belong to one scene (``PRESET_FIELDS``: chunk size, priority, placement, retries,
timeout, submit paused, environment, node requirements, limits, when to stop after failures),
so a show's "overnight" or "quick check" is one click.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from common.jobspec import PanelSettings
from common.models import Placement

logger = logging.getLogger(__name__)

MAX_SCENES = 500
MAX_PRESETS = 50
"""Presets kept per show (the oldest saved goes first)."""
FILE_NAME = "panel-settings.json"
PRESET_FIELDS = (
    "chunk_size", "priority", "placement", "max_retries", "timeout_s", "paused", "env",
    "pool", "os", "min_memory_mb", "gpus", "min_gpu_memory_mb", "dcc_version", "tags",
    "limits", "max_failed_tasks",
)  # fmt: skip
"""The choices a preset keeps: none names a scene's own frames, target, camera or output, nor
the job it waits for."""
ONE_SUBMISSION = ("after_job", "frame_by_frame")
"""Choices never kept: the job waited for is one submission's, not the scene's."""
_OPTIONAL = {"timeout_s": int, "limits": str}
"""The type of each choice that may also be None."""


def default_path() -> Path:
    """Where the settings live unless told otherwise."""
    return platformdirs.user_config_path("cloudburst") / FILE_NAME


class SettingsStore:
    """Reads and writes the per-scene choices. Used on the UI thread; small, fast IO."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def load(self, scene: str, defaults: PanelSettings) -> PanelSettings:
        """The choices stored for ``scene`` laid over ``defaults``; a bad entry is ignored."""
        return _laid_over(self._read("scenes").get(scene), defaults, f"the scene {scene}")

    def preset_names(self, show: str) -> list[str]:
        """The names of ``show``'s presets, in the order they were saved."""
        presets = self._read("presets").get(show)
        return list(presets) if isinstance(presets, dict) else []

    def load_preset(self, show: str, name: str, onto: PanelSettings) -> PanelSettings:
        """``onto`` with the preset's choices; unchanged when there is no such (good) preset."""
        presets = self._read("presets").get(show)
        entry = presets.get(name) if isinstance(presets, dict) else None
        if isinstance(entry, dict):
            entry = {k: v for k, v in entry.items() if k in PRESET_FIELDS}
        return _laid_over(entry, onto, f"the preset {name!r} of {show}")

    def save_preset(self, show: str, name: str, settings: PanelSettings) -> None:
        """Keeps ``settings``' preset choices as ``show``'s preset ``name`` (replacing one).

        Raises:
            OSError: the file cannot be written.
        """
        chosen = asdict(settings)
        presets = self._read("presets")
        found = presets.get(show)
        shows = dict(found) if isinstance(found, dict) else {}
        shows.pop(name, None)
        shows[name] = {key: chosen[key] for key in PRESET_FIELDS}
        while len(shows) > MAX_PRESETS:
            shows.pop(next(iter(shows)))
        presets[show] = shows
        self._write(self._read("scenes"), presets)

    def save(self, scene: str, settings: PanelSettings, defaults: PanelSettings) -> None:
        """Stores the choices for ``scene`` that differ from ``defaults``.

        Raises:
            OSError: the file cannot be written.
        """
        if not scene:
            return
        chosen = {
            key: value
            for key, value in asdict(settings).items()
            if value != getattr(defaults, key) and key not in ONE_SUBMISSION
        }
        scenes = self._read("scenes")
        scenes.pop(scene, None)
        scenes[scene] = chosen  # last in the file: most recently used
        while len(scenes) > MAX_SCENES:
            scenes.pop(next(iter(scenes)))
        self._write(scenes, self._read("presets"))

    def _read(self, part: str) -> dict[str, Any]:
        """One part of the file (``scenes`` or ``presets``); empty when missing or damaged."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("cannot read %s (%s); starting afresh", self.path, exc)
            return {}
        found = data.get(part) if isinstance(data, dict) else None
        return dict(found) if isinstance(found, dict) else {}

    def _write(self, scenes: dict[str, Any], presets: dict[str, Any]) -> None:
        data = {"version": 1, "scenes": scenes, "presets": presets}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".panel-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1, default=str)
            os.replace(tmp, self.path)  # readers never see half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _laid_over(entry: object, defaults: PanelSettings, what: str) -> PanelSettings:
    """``defaults`` with a stored entry's values; ``defaults`` when the entry is bad."""
    if not isinstance(entry, dict):
        return defaults
    known = {f.name for f in fields(PanelSettings)} - set(ONE_SUBMISSION)
    values: dict[str, Any] = {k: v for k, v in entry.items() if k in known}
    try:
        if "placement" in values:
            values["placement"] = Placement(values["placement"])
        settings = replace(defaults, **values)
    except (TypeError, ValueError) as exc:
        logger.warning("ignoring the stored panel settings of %s: %s", what, exc)
        return defaults
    for field in fields(PanelSettings):
        wanted = type(getattr(defaults, field.name))
        value = getattr(settings, field.name)
        if value is not None and wanted is not type(None) and not isinstance(value, wanted):
            logger.warning("ignoring the stored panel settings of %s: bad %s", what, field.name)
            return defaults
    for name, wanted_type in _OPTIONAL.items():
        value = getattr(settings, name)
        if value is not None and (not isinstance(value, wanted_type) or isinstance(value, bool)):
            logger.warning("ignoring the stored panel settings of %s: bad %s", what, name)
            return defaults
    if any(not isinstance(v, str) for v in settings.env.values()):
        logger.warning("ignoring the stored panel settings of %s: bad env", what)
        return defaults
    return settings
