"""The real public scene files in ``../shared/scenes``; tests using them skip without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED

SCENES = SHARED / "scenes"


@pytest.fixture(scope="session")
def scenes() -> Path:
    if not SCENES.is_dir():
        pytest.skip(f"the real test scenes are not here ({SCENES} is missing)")
    return SCENES
