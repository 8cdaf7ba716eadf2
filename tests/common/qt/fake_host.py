"""A plain stand-in ``HostAdapter`` for panel tests: fixed facts, a save that clears dirty."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from common.host import Asset, SceneInfo


class FakeHost:
    """Reports the ``SceneInfo`` and assets it was given; counts saves."""

    def __init__(self, info: SceneInfo, assets: list[Asset] | None = None, dirty: bool = False):
        self.dcc = info.dcc
        self.info = info
        self.assets = list(assets or [])
        self.dirty = dirty
        self.saves = 0

    def main_window(self) -> Any:
        return None

    def scene_path(self) -> Path | None:
        return Path(self.info.scene_path) if self.info.scene_path else None

    def is_dirty(self) -> bool:
        return self.dirty

    def save(self) -> None:
        self.saves += 1
        self.dirty = False

    def scene_info(self) -> SceneInfo:
        return self.info

    def collect_assets(self) -> list[Asset]:
        return list(self.assets)

    def extra_widget(self, parent: Any) -> Any:
        return None

    def with_range(self, start: int, end: int) -> FakeHost:
        """The same host after the artist changed the scene's frame range."""
        return FakeHost(replace(self.info, frame_start=start, frame_end=end), self.assets)
