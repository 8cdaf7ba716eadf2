"""What the end-to-end tests of work leaving the studio share: the studio shot's job, the
settings of a farm with an object store, and the reference render to compare frames with."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

from common.models import JobSpec, Placement

FRAMES = (1, 3)
"""The studio shot's frames the tests render (``tests/e2e/studio_scene.py``)."""


def shot_spec(scene: Path, placement: Placement, **changes: Any) -> JobSpec:
    """The studio shot as a job of show ``show``, frames back in ``//render/``."""
    values: dict[str, Any] = {
        "name": "sh010", "owner": "test", "project": "show", "scene": str(scene),
        "frames": f"{FRAMES[0]}-{FRAMES[1]}", "chunk_size": 2, "output": "//render/sh010_####",
        "output_format": "PNG", "placement": placement,
    }  # fmt: skip
    values.update(changes)
    return JobSpec.model_validate(values, strict=False)


def data_env(weed: Any, studio: Path, **more: str) -> dict[str, str]:
    """A farm's settings with its own prefix of the test object store and the studio's root."""
    return {
        **weed.store_env(f"e2e-{uuid.uuid4().hex[:8]}/"),
        "CLOUDBURST_PATH_RULES": json.dumps([{"name": "studio", "linux": str(studio)}]),
        "CLOUDBURST_STAGING__INTERVAL_S": "0.5",
        **more,
    }


def render_directly(scene: Path, out: Path) -> None:
    """The reference: the same frames rendered by Blender straight from the studio folder."""
    blender = Path(sys.executable).with_name("cloudburst-blender")
    subprocess.run(
        [str(blender), "-b", str(scene), "-o", str(out / "sh010_####"), "-F", "PNG",
         "-s", str(FRAMES[0]), "-e", str(FRAMES[1]), "-a"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def same_pixels(a: Path, b: Path) -> bool:
    with Image.open(a) as left, Image.open(b) as right:
        return ImageChops.difference(left.convert("RGBA"), right.convert("RGBA")).getbbox() is None
