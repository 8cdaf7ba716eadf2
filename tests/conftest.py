"""Fixtures shared by every test: settings on a temporary folder, a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        lease_ttl_s=30,
        heartbeat_interval_s=1,
        poll_interval_s=0.2,
        reaper_interval_s=0.5,
    )
