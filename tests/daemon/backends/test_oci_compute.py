"""``OciComputeBackend`` through the real ``oci`` SDK, against a local Compute endpoint.

The endpoint (``oci_compute_endpoint``) is served by waitress on 127.0.0.1. It verifies each
request's OCI signature against an API key made for the test and refuses launches whose shape
is wrong (compartment, availability domain, flex shape config, image, private subnet without a
public IP, preemption action, tags, cloud-init user data). The backend is built as the daemon
builds it: ``get_backend("oci", ...)`` with an OCI config file and the endpoint as the service
endpoint. Instance principals need an OCI instance's metadata service and are not exercised.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

oci = pytest.importorskip("oci", reason="the oci SDK is not installed (pip install -e .[oci])")
pytest.importorskip("waitress", reason="waitress is not installed (the daemon extra)")

from common.data.store_config import StoreSettings  # noqa: E402
from common.errors import ConfigError  # noqa: E402
from daemon.backends import (  # noqa: E402
    CloudSettings,
    NodeState,
    OciComputeSettings,
    ProvisionProblem,
    ProvisionRequest,
    RenderBackend,
    get_backend,
)
from daemon.backends.cloud_init import CONFIG_PATH, AgentBootstrap  # noqa: E402
from daemon.backends.oci_compute import OciComputeBackend  # noqa: E402
from tests.common.data.oci_signature import ApiKey, new_api_key, oci_config  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.daemon.backends.oci_compute_endpoint import (  # noqa: E402
    ComputeEndpoint,
    serve,
)

TENANCY = "ocid1.tenancy.oc1..aaaatest"
USER = "ocid1.user.oc1..aaaatest"
COMPARTMENT = "ocid1.compartment.oc1..render"
IMAGE = "ocid1.image.oc1.iad.renderimage"
SUBNET = "ocid1.subnet.oc1.iad.private"
AD1, AD2 = "Uocm:US-ASHBURN-AD-1", "Uocm:US-ASHBURN-AD-2"
FARM = "testfarm"


@pytest.fixture(scope="module")
def api_key() -> ApiKey:
    return new_api_key(TENANCY, USER)


@pytest.fixture
def endpoint(api_key: ApiKey) -> Iterator[ComputeEndpoint]:
    app = ComputeEndpoint(
        compartment_id=COMPARTMENT,
        availability_domains=[AD1, AD2],
        image_id=IMAGE,
        subnet_id=SUBNET,
        page_size=2,  # small pages: listings page
    )
    app.trust(api_key)
    with serve(app):
        yield app


@pytest.fixture
def config_file(api_key: ApiKey, tmp_path: Path) -> Path:
    return oci_config(tmp_path / "oci", api_key)


def cloud_settings(
    endpoint: ComputeEndpoint, config_file: Path, **oci_values: Any
) -> CloudSettings:
    values: dict[str, Any] = {
        "compartment_id": COMPARTMENT,
        "availability_domains": [AD1, AD2],
        "shape": "VM.Standard.E5.Flex",
        "ocpus": 4,
        "memory_gb": 32,
        "image_id": IMAGE,
        "subnet_id": SUBNET,
        "preemptible_price_per_hour": 0.12,
        "on_demand_price_per_hour": 0.48,
        "max_nodes": 6,
        "auth": "config_file",
        "config_file": str(config_file),
        "endpoint": endpoint.url,
        "throttle_backoff_s": 0.5,
        "throttle_retries": 3,
        "limit_hold_s": 600,
        **oci_values,
    }
    return CloudSettings(backend="oci", farm=FARM, oci=OciComputeSettings(**values))


BOOTSTRAP = AgentBootstrap(
    daemon_url="http://10.0.0.5:8642",
    store=StoreSettings(kind="oci", bucket="renders", prefix="farm/", namespace="cbtestns"),
)


class Sleeps(list[float]):
    """A ``sleep`` that only notes how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def open_backend(
    endpoint: ComputeEndpoint,
    config_file: Path,
    sleeps: Sleeps,
    clock: FakeClock | None = None,
    **oci_values: Any,
) -> OciComputeBackend:
    options: dict[str, Any] = {"bootstrap": BOOTSTRAP, "sleep": sleeps}
    if clock is not None:
        options["clock"] = clock
    backend = get_backend("oci", cloud_settings(endpoint, config_file, **oci_values), **options)
    assert isinstance(backend, OciComputeBackend)
    return backend


@pytest.fixture
def backend(
    endpoint: ComputeEndpoint, config_file: Path, sleeps: Sleeps
) -> Iterator[OciComputeBackend]:
    backend = open_backend(endpoint, config_file, sleeps)
    yield backend
    backend.close()


def request(count: int, **values: Any) -> ProvisionRequest:
    tokens = tuple(f"enroll-{i}" for i in range(count))
    return ProvisionRequest(count=count, pool="cloud", enrollment_tokens=tokens, **values)


def test_launches_are_signed_and_shaped_as_oci_expects(
    backend: OciComputeBackend, endpoint: ComputeEndpoint, api_key: ApiKey
) -> None:
    assert isinstance(backend, RenderBackend)
    result = backend.provision(request(2, job_class="cpu"))

    assert endpoint.refused == []
    assert result.problem is None and result.shortfall == 0
    assert [n.state for n in result.nodes] == [NodeState.PROVISIONING] * 2
    assert {seen.key_id for seen in endpoint.seen} == {api_key.key_id}
    launches = [s for s in endpoint.seen if s.operation == "LaunchInstance"]
    assert len({s.headers["opc-retry-token"] for s in launches}) == 2
    for node, launch in zip(result.nodes, launches, strict=True):
        body = launch.body or {}
        assert body["availabilityDomain"] == AD1
        assert body["shapeConfig"] == {"ocpus": 4.0, "memoryInGBs": 32.0}
        assert body["preemptibleInstanceConfig"] == {
            "preemptionAction": {"type": "TERMINATE", "preserveBootVolume": False}
        }
        assert body["createVnicDetails"]["assignPublicIp"] is False
        assert body["instanceOptions"] == {"areLegacyImdsEndpointsDisabled": True}
        tags = body["freeformTags"]
        assert tags == {
            "cloudburst-farm": FARM,
            "cloudburst-pool": "cloud",
            "cloudburst-node": node.name,
            "cloudburst-job-class": "cpu",
        }
        assert node.tags == tags and node.name == body["displayName"]
        assert node.name.startswith(f"{FARM}-cloud-")
        assert (node.preemptible, node.ocpus, node.memory_gb) == (True, 4.0, 32.0)
        assert node.price_per_hour == 0.12 and node.backend == "oci"
    # each node's cloud-init enrolls with its own one-time token under its own name
    configs = [endpoint.user_data[n.id] for n in result.nodes]
    agent_toml = [
        tomllib.loads(next(f["content"] for f in c["write_files"] if f["path"] == CONFIG_PATH))
        for c in configs
    ]
    assert [(t["enrollment_token"], t["agent_name"]) for t in agent_toml] == [
        ("enroll-0", result.nodes[0].name),
        ("enroll-1", result.nodes[1].name),
    ]
    assert "enroll-0" not in repr(request(1))


def test_on_demand_nodes_have_no_preemption_config(
    backend: OciComputeBackend, endpoint: ComputeEndpoint
) -> None:
    result = backend.provision(request(1, preemptible=False))

    assert endpoint.refused == []
    assert "preemptibleInstanceConfig" not in endpoint.bodies("LaunchInstance")[0]
    (node,) = result.nodes
    assert node.preemptible is False and node.price_per_hour == 0.48


def test_describe_lists_only_this_farms_live_nodes_over_pages(
    backend: OciComputeBackend, endpoint: ComputeEndpoint
) -> None:
    endpoint.add_instance(tags={}, name="someone's VM")
    endpoint.add_instance(tags={"cloudburst-farm": "otherfarm"}, name="other farm")
    desktop = endpoint.add_instance(  # an artist's desktop of this farm: never a render node
        tags={"cloudburst-farm": FARM, "cloudburst-session": "7"}, name="desktop"
    )
    gone = endpoint.add_instance(tags={"cloudburst-farm": FARM}, state="TERMINATED")
    launched = backend.provision(request(3)).nodes

    nodes = backend.describe()
    assert sorted(n.id for n in nodes) == sorted(n.id for n in launched)
    assert gone not in {n.id for n in nodes}
    assert desktop not in {n.id for n in nodes}
    assert endpoint.count("ListInstances") >= 4  # seven instances, pages of two
    assert backend.capacity().provisioning == 3
    endpoint.advance()
    capacity = backend.capacity()
    assert (capacity.running, capacity.provisioning, capacity.max) == (3, 0, 6)
    assert capacity.available == 3


def test_out_of_host_capacity_moves_to_the_next_domain_then_reports_a_shortfall(
    backend: OciComputeBackend, endpoint: ComputeEndpoint
) -> None:
    endpoint.full_domains = {AD1}
    result = backend.provision(request(2))
    assert [b["availabilityDomain"] for b in endpoint.bodies("LaunchInstance")] == [AD1, AD2, AD2]
    assert len(result.nodes) == 2 and result.problem is None

    endpoint.full_domains = {AD1, AD2}
    before = endpoint.count("LaunchInstance")
    result = backend.provision(request(3))
    assert result.nodes == () and result.shortfall == 3
    assert result.problem is ProvisionProblem.OUT_OF_CAPACITY
    assert AD1 in result.message and AD2 in result.message
    assert endpoint.count("LaunchInstance") - before == 2  # each domain once, then it stops


def test_a_service_limit_stops_launches_and_holds_further_ones(
    endpoint: ComputeEndpoint, config_file: Path, sleeps: Sleeps, clock: FakeClock
) -> None:
    backend = open_backend(endpoint, config_file, sleeps, clock)
    endpoint.limit = 1
    result = backend.provision(request(3))

    assert len(result.nodes) == 1
    assert result.problem is ProvisionProblem.LIMIT_EXCEEDED
    assert "service limit" in result.message and "max_nodes" in result.message
    assert endpoint.count("LaunchInstance") == 2  # one launched, one refused: no loop
    assert sleeps == []

    again = backend.provision(request(2))
    assert again.problem is ProvisionProblem.LIMIT_EXCEEDED and again.nodes == ()
    assert "limit_hold_s" in again.message
    assert endpoint.count("LaunchInstance") == 2  # OCI was not asked

    endpoint.limit = None
    clock.advance(601)
    assert len(backend.provision(request(1)).nodes) == 1


def test_throttled_launches_back_off_a_bounded_number_of_times(
    backend: OciComputeBackend, endpoint: ComputeEndpoint, sleeps: Sleeps
) -> None:
    endpoint.fail("LaunchInstance", 429, "TooManyRequests", "Too many requests for the user.", 2)
    result = backend.provision(request(1))
    assert len(result.nodes) == 1 and result.problem is None
    assert sleeps == [0.5, 1.0]

    sleeps.clear()
    endpoint.fail("LaunchInstance", 429, "TooManyRequests", "Too many requests.", 10)
    before = endpoint.count("LaunchInstance")
    result = backend.provision(request(2))
    assert result.nodes == () and result.problem is ProvisionProblem.THROTTLED
    assert sleeps == [0.5, 1.0, 2.0]  # three retries, then it gives up
    assert endpoint.count("LaunchInstance") - before == 4


def test_refused_credentials_name_the_config_to_fix(
    endpoint: ComputeEndpoint, tmp_path: Path, sleeps: Sleeps
) -> None:
    stranger = new_api_key(TENANCY, "ocid1.user.oc1..stranger")  # not trusted by the endpoint
    config = oci_config(tmp_path / "stranger", stranger)
    backend = open_backend(endpoint, config, sleeps)

    with pytest.raises(ConfigError) as refused:
        backend.provision(request(1))
    assert "NotAuthenticated" in refused.value.message
    assert str(config) in refused.value.message and "DEFAULT" in refused.value.message
    with pytest.raises(ConfigError):
        backend.describe()
    assert endpoint.count("LaunchInstance") == 0
    assert all("401 NotAuthenticated" in line for line in endpoint.refused)


def test_release_terminates_only_this_farms_nodes_with_their_boot_volumes(
    backend: OciComputeBackend, endpoint: ComputeEndpoint
) -> None:
    foreign = endpoint.add_instance(tags={"cloudburst-farm": "otherfarm"})
    desktop = endpoint.add_instance(tags={"cloudburst-farm": FARM, "cloudburst-session": "7"})
    one, two = backend.provision(request(2)).nodes

    asked = [one.id, foreign, desktop, "ocid1.instance.oc1..nosuch"]
    assert backend.release(asked) == [one.id]
    assert endpoint.refused == []
    assert endpoint.instances[one.id]["lifecycleState"] == "TERMINATING"
    assert endpoint.instances[foreign]["lifecycleState"] == "RUNNING"
    assert endpoint.instances[desktop]["lifecycleState"] == "RUNNING"
    deletes = [s.target for s in endpoint.seen if s.operation == "TerminateInstance"]
    assert deletes == [f"/20160918/instances/{one.id}?preserveBootVolume=false"]

    # already terminating: not asked again; terminated: no longer ours to release
    assert sorted(backend.release([one.id, two.id])) == sorted([one.id, two.id])
    assert endpoint.count("TerminateInstance") == 2
    endpoint.advance()
    assert backend.release([one.id, two.id]) == []
    assert backend.describe() == []


def test_max_nodes_caps_a_request(
    endpoint: ComputeEndpoint, config_file: Path, sleeps: Sleeps
) -> None:
    backend = open_backend(endpoint, config_file, sleeps, max_nodes=2)
    result = backend.provision(request(3))
    assert len(result.nodes) == 2
    assert result.problem is ProvisionProblem.AT_MAX_NODES and "max_nodes" in result.message
    assert backend.provision(request(1)).nodes == ()
    assert endpoint.count("LaunchInstance") == 2


def test_a_wrong_image_or_subnet_is_reported_not_raised(
    endpoint: ComputeEndpoint, config_file: Path, sleeps: Sleeps
) -> None:
    backend = open_backend(endpoint, config_file, sleeps, image_id="ocid1.image.oc1..gone")
    result = backend.provision(request(2))
    assert result.nodes == () and result.problem is ProvisionProblem.ERROR
    assert "NotAuthorizedOrNotFound" in result.message and "image_id" in result.message
    assert endpoint.count("LaunchInstance") == 1


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"compartment_id": ""}, "compartment_id"),
        ({"subnet_id": ""}, "subnet_id"),
        ({"availability_domains": []}, "availability_domains"),
    ],
)
def test_missing_settings_are_config_errors(
    endpoint: ComputeEndpoint,
    config_file: Path,
    sleeps: Sleeps,
    values: dict[str, Any],
    words: str,
) -> None:
    with pytest.raises(ConfigError, match=words):
        open_backend(endpoint, config_file, sleeps, **values).provision(request(1))
    assert endpoint.count("LaunchInstance") == 0


def test_a_missing_oci_config_file_is_a_config_error(
    endpoint: ComputeEndpoint, tmp_path: Path, sleeps: Sleeps
) -> None:
    with pytest.raises(ConfigError, match="config file"):
        open_backend(endpoint, tmp_path / "nope", sleeps)
