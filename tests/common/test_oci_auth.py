"""Signing in to OCI: a bad configuration is a clear ConfigError, never an SDK traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from common.oci_auth import oci_client

pytest.importorskip("oci")


def test_an_unknown_auth_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="instance_principal or config_file"):
        oci_client(lambda sdk: sdk.core.ComputeClient, auth="password")


def test_a_missing_config_file_names_the_file_and_what_it_needs(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config"
    with pytest.raises(ConfigError, match=r"nope/config.*key_file"):
        oci_client(lambda sdk: sdk.core.ComputeClient, auth="config_file",
                   config_file=str(missing))  # fmt: skip
