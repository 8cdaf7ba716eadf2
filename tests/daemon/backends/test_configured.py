"""The backend the daemon's settings name, built by the registry, and what its nodes are like;
what only some backends can do is a capability they declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from common.cloud_settings import CloudSettings
from common.config import Settings
from common.data.store_config import StoreSettings
from common.errors import ConfigError
from daemon.backends import (
    KeepsEndedNodes,
    NodeProfile,
    NullBackend,
    ProvisionRequest,
    configured_backend,
    node_profile,
)
from daemon.backends.base import nodes_of
from daemon.backends.registry import url_of
from daemon.backends.simcloud import SimCloud


def test_a_simulated_cloud_is_built_from_the_daemons_settings(tmp_path: Path) -> None:
    store = StoreSettings(bucket="frames", secret_access_key=SecretStr("s3cr3t"))
    settings = Settings(
        data_dir=tmp_path / "d", bind="0.0.0.0:8123", store=store, log_level="DEBUG",
        cloud=CloudSettings.model_validate(
            {"backend": "simcloud", "farm": "f2", "simcloud": {"boot_delay_s": 3600}}
        ),
    )  # fmt: skip
    sim = configured_backend(settings)
    try:
        assert isinstance(sim, SimCloud)
        assert sim.farm == "f2"
        assert sim.daemon_url == "http://127.0.0.1:8123"  # nodes run here: the loopback
        assert sim.data_root == tmp_path / "d" / "simcloud"
        asked = ProvisionRequest(count=1, pool="cloud", enrollment_tokens=("t",))
        (node,) = sim.provision(asked).nodes  # boots in an hour: no process starts
        env = sim.environment(node.id)
        assert env["CLOUDBURST_STORE__BUCKET"] == "frames"
        assert env["CLOUDBURST_STORE__SECRET_ACCESS_KEY"] == "s3cr3t"
        assert env["CLOUDBURST_LOG_LEVEL"] == "DEBUG"
    finally:
        sim.close()


def test_the_nodes_daemon_url_wins_over_where_the_daemon_listens(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        cloud=CloudSettings(backend="simcloud", node_daemon_url="http://farm:9"),
    )
    sim = configured_backend(settings)
    try:
        assert isinstance(sim, SimCloud) and sim.daemon_url == "http://farm:9"
    finally:
        sim.close()


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("0.0.0.0:80", "http://127.0.0.1:80"),
        ("[::]:81", "http://127.0.0.1:81"),
        (":82", "http://127.0.0.1:82"),
        ("10.0.0.5:83", "http://10.0.0.5:83"),
    ],
)
def test_the_daemons_url_on_this_machine(bind: str, url: str) -> None:
    assert url_of(bind) == url


def test_bursting_to_oci_without_an_object_store_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", cloud=CloudSettings(backend="oci"))
    with pytest.raises(ConfigError, match=r"\[store\] table"):
        configured_backend(settings)


def test_the_none_backend_is_built_from_settings(tmp_path: Path) -> None:
    assert isinstance(configured_backend(Settings(data_dir=tmp_path / "d")), NullBackend)


def test_each_backend_says_what_its_nodes_are_like() -> None:
    cloud = CloudSettings.model_validate(
        {
            "backend": "simcloud",
            "simcloud": {"max_nodes": 3, "boot_delay_s": 2.5, "ocpus": 2, "memory_gb": 8},
            "oci": {"max_nodes": 7, "ocpus": None, "memory_gb": 32, "gpus": 1},
        }
    )
    assert node_profile(cloud) == NodeProfile(
        max_nodes=3, boot_s=2.5, ocpus=2, memory_gb=8, gpus=0, shape="Sim.Standard"
    )
    oci = cloud.model_copy(update={"backend": "oci"})
    assert node_profile(oci) == NodeProfile(
        max_nodes=7, boot_s=180.0, ocpus=0, memory_gb=32, gpus=1, shape="VM.Standard.E5.Flex"
    )  # a fixed shape has no OCPU count of ours


def test_only_the_simulated_cloud_declares_it_keeps_ended_nodes(tmp_path: Path) -> None:
    sim = SimCloud(CloudSettings().simcloud, daemon_url="http://d:1", data_root=tmp_path)
    try:
        assert isinstance(sim, KeepsEndedNodes)
        assert not isinstance(NullBackend(), KeepsEndedNodes)
        assert nodes_of(sim) == [] and nodes_of(NullBackend()) == []
    finally:
        sim.close()
