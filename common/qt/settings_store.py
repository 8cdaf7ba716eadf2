"""The artist's panel choices, remembered per scene in a JSON file.

The file is ``panel-settings.json`` in the user's Cloudburst config folder
(``~/.config/cloudburst`` on Linux), shared by every DCC. Only the choices that differ from the
scene's own values are kept, so a scene whose frame range changes later still follows it
unless the artist typed a range. The most recent ``MAX_SCENES`` scenes are kept.
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
FILE_NAME = "panel-settings.json"


def default_path() -> Path:
    """Where the settings live unless told otherwise."""
    return platformdirs.user_config_path("cloudburst") / FILE_NAME


class SettingsStore:
    """Reads and writes the per-scene choices. Used on the UI thread; small, fast IO."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()

    def load(self, scene: str, defaults: PanelSettings) -> PanelSettings:
        """The choices stored for ``scene`` laid over ``defaults``; a bad entry is ignored."""
        entry = self._read().get(scene)
        if not isinstance(entry, dict):
            return defaults
        known = {f.name for f in fields(PanelSettings)}
        values: dict[str, Any] = {k: v for k, v in entry.items() if k in known}
        try:
            if "placement" in values:
                values["placement"] = Placement(values["placement"])
            settings = replace(defaults, **values)
        except (TypeError, ValueError) as exc:
            logger.warning("ignoring the stored panel settings of %s: %s", scene, exc)
            return defaults
        for field in fields(PanelSettings):
            wanted = type(getattr(defaults, field.name))
            value = getattr(settings, field.name)
            if value is not None and wanted is not type(None) and not isinstance(value, wanted):
                logger.warning("ignoring the stored panel settings of %s: bad %s", scene, field)
                return defaults
        return settings

    def save(self, scene: str, settings: PanelSettings, defaults: PanelSettings) -> None:
        """Stores the choices for ``scene`` that differ from ``defaults``.

        Raises:
            OSError: the file cannot be written.
        """
        if not scene:
            return
        chosen = {
            key: value for key, value in asdict(settings).items() if value != getattr(defaults, key)
        }
        scenes = self._read()
        scenes.pop(scene, None)
        scenes[scene] = chosen  # last in the file: most recently used
        while len(scenes) > MAX_SCENES:
            scenes.pop(next(iter(scenes)))
        self._write({"version": 1, "scenes": scenes})

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.warning("cannot read %s (%s); starting afresh", self.path, exc)
            return {}
        scenes = data.get("scenes") if isinstance(data, dict) else None
        return dict(scenes) if isinstance(scenes, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".panel-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1, default=str)
            os.replace(tmp, self.path)  # readers never see half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
