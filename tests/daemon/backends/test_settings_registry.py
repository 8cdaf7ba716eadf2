"""The ``[cloud]`` settings and the backend registry."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

import pytest
from pydantic import ValidationError

from common.errors import ConfigError
from daemon.backends import (
    Capacity,
    CloudNode,
    CloudSettings,
    NullBackend,
    ProvisionProblem,
    ProvisionRequest,
    ProvisionResult,
    RenderBackend,
    backend_names,
    get_backend,
    register_backend,
)
from daemon.backends.simcloud import SimCloud

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_never_burst() -> None:
    settings = CloudSettings()
    assert settings.backend == "none"
    assert settings.oci.preemptible and settings.oci.auth == "config_file"
    assert settings.simcloud.max_nodes >= 1


def test_environment_style_keys_fill_the_sub_tables() -> None:
    settings = CloudSettings.model_validate(
        {
            "backend": "oci",
            "oci": {"shape": "VM.Standard.E4.Flex", "max_nodes": "3"},
            "oci__availability_domains": '["AD-1", "AD-2"]',
            "oci__max_nodes": "5",
            "simcloud__boot_delay_s": "0.5",
        }
    )
    assert settings.oci.shape == "VM.Standard.E4.Flex"
    assert settings.oci.availability_domains == ["AD-1", "AD-2"]
    assert settings.oci.max_nodes == 5
    assert settings.simcloud.boot_delay_s == 0.5


@pytest.mark.parametrize(
    "values",
    [
        {"backend": "aws"},
        {"oci": {"shapes": "x"}},
        {"oci__nope": 1},
        {"simcloud": {"max_nodes": -1}},
        {"farm": "has space"},
        {"oci": {"ocpus": 0}},
    ],
)
def test_bad_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CloudSettings.model_validate(values)


def test_settings_are_frozen() -> None:
    with pytest.raises(ValidationError):
        CloudSettings().oci.shape = "x"  # type: ignore[misc]


def test_the_none_backend_has_no_nodes() -> None:
    backend = get_backend("none", CloudSettings())
    assert isinstance(backend, RenderBackend) and isinstance(backend, NullBackend)
    assert backend.capacity().available == 0
    result = backend.provision(
        ProvisionRequest(count=2, pool="cloud", enrollment_tokens=("a", "b"))
    )
    assert result.shortfall == 2 and result.problem is ProvisionProblem.AT_MAX_NODES


def test_an_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="none, oci, simcloud"):
        get_backend("aws", CloudSettings())


class Fixed:
    """A backend of two fixed nodes, for the registry."""

    name = "fixed"

    def __init__(self, settings: CloudSettings, *, size: int) -> None:
        self.size = size

    def capacity(self) -> Capacity:
        return Capacity(running=0, provisioning=0, max=self.size)

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        return ProvisionResult(request.count)

    def release(self, node_ids: Collection[str]) -> list[str]:
        return []

    def describe(self) -> list[CloudNode]:
        return []

    def close(self) -> None:
        pass


def test_registered_backends_are_built_with_their_options(tmp_path: Path) -> None:
    register_backend("fixed", Fixed)
    assert "fixed" in backend_names()
    backend = get_backend("fixed", CloudSettings(), size=7)
    assert isinstance(backend, RenderBackend) and backend.capacity().max == 7

    sim = get_backend(
        "simcloud", CloudSettings(farm="f1"), daemon_url="http://d:1", data_root=tmp_path
    )
    assert isinstance(sim, SimCloud) and sim.farm == "f1"
    sim.close()


def test_requests_need_a_token_per_node() -> None:
    with pytest.raises(ValueError, match="2 enrollment tokens"):
        ProvisionRequest(count=2, pool="cloud", enrollment_tokens=("only-one",))


def test_importing_the_backends_leaves_the_oci_sdk_unloaded() -> None:
    code = (
        "import sys\n"
        "import daemon.backends, daemon.backends.oci_compute, daemon.backends.simcloud\n"
        "import daemon.backends.sweeper, daemon.backends.cloud_init\n"
        "assert 'oci' not in sys.modules, 'oci was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
