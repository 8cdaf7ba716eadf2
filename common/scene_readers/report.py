"""``SceneReport``: what an offline reader (or a host adapter) learned about a scene file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from common.host import Asset, SceneInfo


@dataclass(frozen=True)
class SceneReport:
    """The facts of a scene file, every file it reads and every file it writes.

    ``dependencies`` are the files a render of the scene needs (references, textures,
    caches), missing ones included; ``outputs`` the files its render targets write.
    ``warnings`` are things a person should look at: paths that could not be evaluated
    without the DCC, unloaded references, variables that are not set.
    """

    info: SceneInfo
    dependencies: tuple[Asset, ...] = ()
    outputs: tuple[Asset, ...] = ()
    warnings: tuple[str, ...] = ()
    probed: tuple[str, ...] = ()
    """Places looked in for a file and not found there (Maya's search rules): a file that
    appears in one of them changes the report, so a cached scan watches them."""

    @property
    def missing(self) -> tuple[Asset, ...]:
        """The dependencies that are not (all) on disk (paths not evaluated are not missing)."""
        return tuple(a for a in self.dependencies if not a.exists and a.evaluated)

    @property
    def not_evaluated(self) -> tuple[Asset, ...]:
        """The dependencies whose path is an expression only the DCC evaluates."""
        return tuple(asset for asset in self.dependencies if not asset.evaluated)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (``cloudburst scan --json``)."""
        return {
            "info": dataclasses.asdict(self.info),
            "dependencies": [dataclasses.asdict(a) for a in self.dependencies],
            "outputs": [dataclasses.asdict(a) for a in self.outputs],
            "warnings": list(self.warnings),
            "probed": list(self.probed),
        }


def unique(assets: list[Asset]) -> tuple[Asset, ...]:
    """The assets in order, each path once (the first use wins)."""
    seen: set[str] = set()
    result = []
    for asset in assets:
        if asset.path not in seen:
            seen.add(asset.path)
            result.append(asset)
    return tuple(result)
