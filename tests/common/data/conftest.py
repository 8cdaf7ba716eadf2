"""Fixtures of the data-layer tests: a real SeaweedFS S3 server for the session."""

from __future__ import annotations

import pytest

from common.data.s3 import S3Store
from tests.common.data import seaweed


@pytest.fixture
def store(weed: seaweed.SeaweedServer) -> S3Store:
    """A store of its own (a fresh key prefix) on the session's server."""
    return weed.store()
