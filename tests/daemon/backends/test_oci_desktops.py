"""``OciDesktops`` through the real ``oci`` SDK, against a local Compute and Block Storage endpoint.

The endpoint (``oci_compute_endpoint`` with ``oci_blockstorage_endpoint`` mounted) is served by
waitress on 127.0.0.1. It verifies each request's OCI signature and refuses requests whose shape
is wrong (compartment, availability domain, image or boot volume source and size, private subnet
without a public IP, our tags on everything, backup type, the desktop agent's cloud-init). The
backend is built as the daemon builds it: ``configured_desktop_backend(settings, ...)``.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

oci = pytest.importorskip("oci", reason="the oci SDK is not installed (pip install -e .[oci])")
pytest.importorskip("waitress", reason="waitress is not installed (the daemon extra)")

from common.cloud_settings import CloudSettings, OciComputeSettings  # noqa: E402
from common.config import Settings  # noqa: E402
from common.desktop_settings import (  # noqa: E402
    DesktopProfile,
    OciDesktopSettings,
    SessionSettings,
)
from common.errors import ConfigError  # noqa: E402
from daemon.backends.base import CloudError  # noqa: E402
from daemon.backends.cloud_init import SECRET_PATH  # noqa: E402
from daemon.backends.desktops import (  # noqa: E402
    BackupKind,
    BackupState,
    DesktopBackend,
    DesktopLaunch,
    DesktopRefused,
    DesktopState,
    configured_desktop_backend,
)
from daemon.backends.oci_desktops import OciDesktops  # noqa: E402
from tests.common.data.oci_signature import ApiKey, new_api_key, oci_config  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.daemon.backends.oci_blockstorage_endpoint import BlockStorage  # noqa: E402
from tests.daemon.backends.oci_compute_endpoint import ComputeEndpoint, serve  # noqa: E402

TENANCY = "ocid1.tenancy.oc1..aaaatest"
USER = "ocid1.user.oc1..aaaatest"
COMPARTMENT = "ocid1.compartment.oc1..studio"
IMAGE = "ocid1.image.oc1.iad.desktopimage"
RENDER_SUBNET = "ocid1.subnet.oc1.iad.render"
DESKTOP_SUBNET = "ocid1.subnet.oc1.iad.desktops"
AD1, AD2 = "Uocm:US-ASHBURN-AD-1", "Uocm:US-ASHBURN-AD-2"
FARM = "testfarm"
SECRET = "cbs_the-session-secret-0123456789abcdef"
LOOKDEV = DesktopProfile(
    name="lookdev", shape="VM.GPU.A10.1", gpus=1, image_id=IMAGE, boot_volume_gb=200,
    protocol="dcv", price_per_hour=2.5,
)  # fmt: skip
EDIT = DesktopProfile(
    name="edit", shape="VM.Standard.E5.Flex", ocpus=4, memory_gb=32, image_id=IMAGE,
    protocol="rdp",
)  # fmt: skip
DESKTOP_TAG_NAMES = {
    "cloudburst-farm",
    "cloudburst-session",
    "cloudburst-user",
    "cloudburst-desktop",
}


@pytest.fixture(scope="module")
def api_key() -> ApiKey:
    return new_api_key(TENANCY, USER)


@pytest.fixture
def volumes() -> BlockStorage:
    return BlockStorage(compartment_id=COMPARTMENT, availability_domains=[AD1, AD2])


@pytest.fixture
def endpoint(api_key: ApiKey, volumes: BlockStorage) -> Iterator[ComputeEndpoint]:
    app = ComputeEndpoint(
        compartment_id=COMPARTMENT,
        availability_domains=[AD1, AD2],
        image_id=IMAGE,
        subnet_id=DESKTOP_SUBNET,
        page_size=2,  # small pages: listings page
        volumes=volumes,
    )
    app.trust(api_key)
    with serve(app):
        yield app


@pytest.fixture
def config_file(api_key: ApiKey, tmp_path: Path) -> Path:
    return oci_config(tmp_path / "oci", api_key)


class Waits(list[float]):
    """A ``sleep`` that notes each wait, moves the clock, and after ``then_after`` waits runs
    ``then`` once (the cloud moves on while the backend waits)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.then: Callable[[], None] | None = None
        self.then_after = 0

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.clock.advance(seconds)
        if self.then is not None and len(self) >= self.then_after:
            then, self.then = self.then, None
            then()


@pytest.fixture
def waits(clock: FakeClock) -> Waits:
    return Waits(clock)


def settings_for(
    endpoint: ComputeEndpoint, config_file: Path, tmp_path: Path, **desktop_values: Any
) -> Settings:
    oci_settings = OciComputeSettings(
        compartment_id=COMPARTMENT,
        availability_domains=[AD1, AD2],
        subnet_id=RENDER_SUBNET,
        auth="config_file",
        config_file=str(config_file),
        endpoint=endpoint.url,
        throttle_backoff_s=0.5,
        throttle_retries=3,
    )
    desktop_settings = {
        "subnet_id": DESKTOP_SUBNET,
        "availability_domain": AD2,
        "blockstorage_endpoint": endpoint.url,
        "archive_region": "us-phoenix-1",
        "volume_wait_s": 30,
        **desktop_values,
    }
    return Settings(
        data_dir=tmp_path / "data",
        cloud=CloudSettings(backend="oci", farm=FARM, oci=oci_settings),
        sessions=SessionSettings(backend="oci", oci=OciDesktopSettings(**desktop_settings)),
        desktops=[LOOKDEV, EDIT],
    )


def open_backend(
    endpoint: ComputeEndpoint, config_file: Path, tmp_path: Path, waits: Waits, **values: Any
) -> OciDesktops:
    settings = settings_for(endpoint, config_file, tmp_path, **values)
    backend = configured_desktop_backend(settings, sleep=waits, clock=waits.clock)
    assert isinstance(backend, OciDesktops) and isinstance(backend, DesktopBackend)
    return backend


@pytest.fixture
def backend(
    endpoint: ComputeEndpoint, config_file: Path, tmp_path: Path, waits: Waits
) -> Iterator[OciDesktops]:
    backend = open_backend(endpoint, config_file, tmp_path, waits)
    yield backend
    backend.close()


def launch(
    session_id: int = 7,
    profile: DesktopProfile = LOOKDEV,
    restore: str | None = None,
    user: str = "ana",
) -> DesktopLaunch:
    return DesktopLaunch(
        session_id=session_id,
        name=f"{FARM}-desktop-{session_id}",
        profile=profile,
        user=user,
        project="mars",
        daemon_url="http://10.0.0.5:8642",
        secret=SECRET,
        restore_backup_id=restore,
    )


def cloud_config(body: dict[str, Any]) -> dict[str, Any]:
    text = base64.b64decode(body["metadata"]["user_data"]).decode()
    assert text.startswith("#cloud-config\n")
    config = yaml.safe_load(text)
    assert isinstance(config, dict)
    return config


def exec_start(config: dict[str, Any]) -> list[str]:
    (unit,) = [f["content"] for f in config["write_files"] if "cloud_agent.desktop" in f["content"]]
    line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    return line.removeprefix("ExecStart=").split()


def our_tags(session_id: int = 7, profile: str = "lookdev") -> dict[str, str]:
    return {
        "cloudburst-farm": FARM,
        "cloudburst-session": str(session_id),
        "cloudburst-user": "ana",
        "cloudburst-desktop": profile,
    }


# --- launch --------------------------------------------------------------------------------


def test_a_desktop_launches_from_its_profiles_image_as_oci_expects(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage, api_key: ApiKey
) -> None:
    desktop = backend.launch(launch())

    assert endpoint.refused == []
    assert {seen.key_id for seen in endpoint.seen} == {api_key.key_id}
    (body,) = endpoint.bodies("LaunchInstance")
    assert body["compartmentId"] == COMPARTMENT
    assert body["availabilityDomain"] == AD2  # [sessions.oci], not [cloud.oci]'s first
    assert (body["shape"], body["displayName"]) == ("VM.GPU.A10.1", f"{FARM}-desktop-7")
    assert "shapeConfig" not in body  # a fixed shape
    assert "preemptibleInstanceConfig" not in body  # an artist's desktop is never taken back
    assert body["sourceDetails"] == {
        "sourceType": "image",
        "imageId": IMAGE,
        "bootVolumeSizeInGBs": 200,
    }
    vnic = body["createVnicDetails"]
    assert (vnic["subnetId"], vnic["assignPublicIp"]) == (DESKTOP_SUBNET, False)
    assert body["freeformTags"] == vnic["freeformTags"] == our_tags()
    assert body["instanceOptions"] == {"areLegacyImdsEndpointsDisabled": True}

    config = cloud_config(body)
    assert exec_start(config) == [
        "/opt/cloudburst/bin/python", "-m", "cloud_agent.desktop",
        "--daemon-url", "http://10.0.0.5:8642", "--session", "7",
        "--secret-file", SECRET_PATH, "--home", "/home/artist",
        "--bind", "127.0.0.1", "--port", "8790", "--display-port", "8443", "--protocol", "dcv",
    ]  # fmt: skip
    (secret_file,) = [f for f in config["write_files"] if f["path"] == SECRET_PATH]
    assert (secret_file["content"], secret_file["permissions"]) == (SECRET, "0600")
    assert secret_file["owner"] == "cloudburst:cloudburst"
    assert ["/opt/cloudburst/bin/pip", "install", "--no-input", "cloudburst[agent]"] in config[
        "runcmd"
    ]

    assert desktop.state is DesktopState.PROVISIONING and desktop.session_id == 7
    assert (desktop.backend, desktop.port, desktop.tags) == ("oci", 8443, our_tags())
    (volume,) = volumes.volumes.values()
    assert volume["sizeInGBs"] == 200
    assert volume["freeformTags"] == our_tags()  # OCI gives a launch's boot volume its tags
    endpoint.advance()
    again = backend.desktop(desktop.id)
    assert again is not None and again.state is DesktopState.RUNNING
    assert volumes.attachments[desktop.id]["bootVolumeId"] == volume["id"]


def test_a_flex_profile_gets_its_ocpus_and_memory(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    desktop = backend.launch(launch(profile=EDIT))

    assert endpoint.refused == []
    (body,) = endpoint.bodies("LaunchInstance")
    assert body["shapeConfig"] == {"ocpus": 4.0, "memoryInGBs": 32.0}
    assert "--protocol rdp" in " ".join(exec_start(cloud_config(body)))
    assert desktop.port == 3389


def test_desktops_are_only_this_farms_desktop_instances(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    someone = endpoint.add_instance(tags={}, name="someone's VM")
    other_farm = endpoint.add_instance(tags={**our_tags(), "cloudburst-farm": "otherfarm"})
    render_node = endpoint.add_instance(tags={"cloudburst-farm": FARM, "cloudburst-pool": "c"})
    gone = endpoint.add_instance(tags=our_tags(9), state="TERMINATED")
    ours = [backend.launch(launch(session_id=n)) for n in (1, 2, 3)]

    listed = backend.desktops()
    assert sorted(d.id for d in listed) == sorted(d.id for d in ours)
    assert sorted(d.session_id or 0 for d in listed) == [1, 2, 3]
    # one listing, not a request per desktop: the boot volume is looked up only to back it up
    assert all(d.boot_volume_id == "" for d in listed)
    assert endpoint.count("ListBootVolumeAttachments") == 0
    assert endpoint.count("ListInstances") >= 4  # eight instances, pages of two
    for foreign in (someone, other_farm, render_node, gone):
        assert backend.desktop(foreign) is None
        backend.terminate(foreign)  # never touched
    assert endpoint.count("TerminateInstance") == 0
    assert endpoint.instances[other_farm]["lifecycleState"] == "RUNNING"
    assert backend.desktop("ocid1.instance.oc1..nosuch") is None


# --- backups and restores ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "wire", "unique"),
    [(BackupKind.FULL, "FULL", 200.0), (BackupKind.INCREMENTAL, "INCREMENTAL", 1.0)],
)
def test_a_backup_of_the_boot_volume_carries_its_kind_and_our_tags(
    backend: OciDesktops,
    endpoint: ComputeEndpoint,
    volumes: BlockStorage,
    kind: BackupKind,
    wire: str,
    unique: float,
) -> None:
    other = backend.launch(launch(session_id=9))
    desktop = backend.launch(launch())
    endpoint.advance()

    backup = backend.backup(desktop.id, kind, "ana lookdev, nightly")

    assert endpoint.refused == []
    (body,) = endpoint.bodies("CreateBootVolumeBackup")
    attached = volumes.attachments[desktop.id]["bootVolumeId"]
    assert attached.startswith("ocid1.bootvolume")
    assert attached != volumes.attachments[other.id]["bootVolumeId"]  # the desktop's own
    assert body == {
        "bootVolumeId": attached,
        "displayName": "ana lookdev, nightly",
        "type": wire,
        "freeformTags": {**our_tags(), "cloudburst-snapshot-kind": kind.value},
    }
    assert (backup.kind, backup.state, backup.boot_volume_id) == (
        kind, BackupState.CREATING, attached,
    )  # fmt: skip
    info = backend.backup_info(backup.id)
    assert info is not None and info.state is BackupState.CREATING
    endpoint.advance()
    info = backend.backup_info(backup.id)
    assert info is not None and info.state is BackupState.AVAILABLE
    assert (info.size_gb, info.name, info.kind) == (unique, "ana lookdev, nightly", kind)


def test_a_backup_of_a_desktop_that_is_not_ours_is_refused(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    foreign = endpoint.add_instance(tags={**our_tags(), "cloudburst-farm": "otherfarm"})
    with pytest.raises(DesktopRefused, match="take snapshots while the session is live"):
        backend.backup(foreign, BackupKind.FULL, "x")
    assert endpoint.count("CreateBootVolumeBackup") == 0


def available_backup(backend: OciDesktops, endpoint: ComputeEndpoint) -> str:
    desktop = backend.launch(launch(session_id=3))
    endpoint.advance()
    backup = backend.backup(desktop.id, BackupKind.FULL, "At the end of session 3")
    endpoint.advance()
    return backup.id


def test_a_restore_makes_a_boot_volume_from_the_backup_waits_for_it_then_launches_from_it(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage, waits: Waits
) -> None:
    backup_id = available_backup(backend, endpoint)
    waits.then, waits.then_after = endpoint.advance, 2  # ready after the second wait

    desktop = backend.launch(launch(session_id=8, restore=backup_id))

    assert endpoint.refused == []
    (made,) = endpoint.bodies("CreateBootVolume")
    assert made == {
        "availabilityDomain": AD2,
        "compartmentId": COMPARTMENT,
        "displayName": f"{FARM}-desktop-8",
        "freeformTags": our_tags(8),
        "sourceDetails": {"type": "bootVolumeBackup", "id": backup_id},
    }
    assert len(waits) == 2 and endpoint.count("GetBootVolume") == 2
    restored = next(v for v in volumes.volumes.values() if v.get("sourceDetails"))
    body = endpoint.bodies("LaunchInstance")[-1]
    assert body["sourceDetails"] == {"sourceType": "bootVolume", "bootVolumeId": restored["id"]}
    assert body["freeformTags"] == our_tags(8)
    assert desktop.boot_volume_id == restored["id"]
    assert volumes.attachments[desktop.id]["bootVolumeId"] == restored["id"]


def test_a_restored_volume_not_ready_in_time_is_deleted_and_nothing_launches(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage, waits: Waits
) -> None:
    backup_id = available_backup(backend, endpoint)
    launches = endpoint.count("LaunchInstance")

    with pytest.raises(CloudError, match="volume_wait_s"):
        backend.launch(launch(session_id=8, restore=backup_id))

    assert sum(waits) == pytest.approx(30)  # bounded by [sessions.oci] volume_wait_s
    assert endpoint.count("LaunchInstance") == launches
    restored = next(v for v in volumes.volumes.values() if v.get("sourceDetails"))
    assert restored["lifecycleState"] == "TERMINATING"
    assert endpoint.refused == []


def test_a_restored_volume_that_fails_is_deleted_and_nothing_launches(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage, waits: Waits
) -> None:
    backup_id = available_backup(backend, endpoint)
    launches = endpoint.count("LaunchInstance")

    def fault() -> None:
        restored = next(v for v in volumes.volumes.values() if v.get("sourceDetails"))
        restored["lifecycleState"] = "FAULTY"

    waits.then, waits.then_after = fault, 1
    with pytest.raises(CloudError, match="is faulty"):
        backend.launch(launch(session_id=8, restore=backup_id))
    assert len(waits) == 1 and endpoint.count("LaunchInstance") == launches
    assert endpoint.count("DeleteBootVolume") == 1


def test_a_poll_of_the_restored_volume_answered_with_an_error_leaves_no_volume(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage, waits: Waits
) -> None:
    backup_id = available_backup(backend, endpoint)
    launches = endpoint.count("LaunchInstance")
    endpoint.fail("GetBootVolume", 500, "InternalError", "Something broke.")

    with pytest.raises(CloudError, match="Something broke"):
        backend.launch(launch(session_id=8, restore=backup_id))

    assert endpoint.count("LaunchInstance") == launches
    restored = next(v for v in volumes.volumes.values() if v.get("sourceDetails"))
    assert restored["lifecycleState"] == "TERMINATING"
    assert endpoint.count("DeleteBootVolume") == 1


def test_a_backup_that_is_not_available_yet_is_refused_before_any_volume_is_made(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    desktop = backend.launch(launch(session_id=3))
    endpoint.advance()
    creating = backend.backup(desktop.id, BackupKind.FULL, "At the end of session 3")

    with pytest.raises(DesktopRefused, match="is creating: restore it once it is available"):
        backend.launch(launch(session_id=8, restore=creating.id))
    assert endpoint.count("CreateBootVolume") == 0


def test_a_refused_launch_after_a_restore_deletes_the_restored_volume(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage, waits: Waits
) -> None:
    backup_id = available_backup(backend, endpoint)
    waits.then, waits.then_after = endpoint.advance, 1
    endpoint.full_domains = {AD2}

    with pytest.raises(DesktopRefused):
        backend.launch(launch(session_id=8, restore=backup_id))

    restored = next(v for v in volumes.volumes.values() if v.get("sourceDetails"))
    assert restored["lifecycleState"] == "TERMINATING"
    assert endpoint.count("DeleteBootVolume") == 1


def test_restoring_a_backup_of_another_farm_or_person_is_refused(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage
) -> None:
    other_farm = volumes.add_backup(tags={**our_tags(), "cloudburst-farm": "otherfarm"})
    someone_elses = volumes.add_backup(tags={**our_tags(), "cloudburst-user": "bo"})
    for backup_id in (other_farm, someone_elses, "ocid1.bootvolumebackup.oc1..nosuch"):
        with pytest.raises(DesktopRefused, match="not one of ana's snapshots"):
            backend.launch(launch(restore=backup_id))
    assert endpoint.count("CreateBootVolume") == endpoint.count("LaunchInstance") == 0


# --- terminate, delete, archive ------------------------------------------------------------


def test_terminate_takes_the_boot_volume_along_and_is_idempotent(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage
) -> None:
    desktop = backend.launch(launch())
    endpoint.advance()

    backend.terminate(desktop.id)
    backend.terminate(desktop.id)  # terminating already: not asked again

    assert endpoint.refused == []
    targets = [s.target for s in endpoint.seen if s.operation == "TerminateInstance"]
    assert targets == [f"/20160918/instances/{desktop.id}?preserveBootVolume=false"]
    (volume,) = volumes.volumes.values()
    assert volume["lifecycleState"] == "TERMINATING"
    endpoint.advance()
    assert backend.desktop(desktop.id) is None and backend.desktops() == []
    backend.terminate(desktop.id)
    backend.terminate("ocid1.instance.oc1..nosuch")
    assert endpoint.count("TerminateInstance") == 1


def test_a_404_or_409_answer_to_terminate_is_fine(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    desktop = backend.launch(launch())
    endpoint.fail("TerminateInstance", 404, "NotAuthorizedOrNotFound", "Instance not found.")
    backend.terminate(desktop.id)
    endpoint.fail("TerminateInstance", 409, "IncorrectState", "The instance is terminating.")
    backend.terminate(desktop.id)
    assert endpoint.count("TerminateInstance") == 2


def test_delete_backup_is_idempotent_and_leaves_others_backups_alone(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage
) -> None:
    backup_id = available_backup(backend, endpoint)
    foreign = volumes.add_backup(tags={"cloudburst-farm": "otherfarm"})

    backend.delete_backup(backup_id)
    info = backend.backup_info(backup_id)
    assert info is not None and info.state is BackupState.TERMINATED
    endpoint.advance()
    assert backend.backup_info(backup_id) is None
    backend.delete_backup(backup_id)
    backend.delete_backup("ocid1.bootvolumebackup.oc1..nosuch")
    backend.delete_backup(foreign)
    assert backend.backup_info(foreign) is None  # not ours: not shown either

    assert endpoint.count("DeleteBootVolumeBackup") == 1
    assert volumes.backups[foreign]["lifecycleState"] == "AVAILABLE"
    other = available_backup(backend, endpoint)
    endpoint.fail("DeleteBootVolumeBackup", 404, "NotAuthorizedOrNotFound", "Not found.")
    backend.delete_backup(other)  # gone between the look and the delete: fine


def test_archive_copies_an_available_backup_to_the_archive_region(
    backend: OciDesktops, endpoint: ComputeEndpoint, volumes: BlockStorage
) -> None:
    desktop = backend.launch(launch())
    endpoint.advance()
    backup = backend.backup(desktop.id, BackupKind.FULL, "before the move")
    with pytest.raises(DesktopRefused, match="once it is available"):
        backend.archive_backup(backup.id)
    endpoint.advance()

    uri = backend.archive_backup(backup.id)

    assert endpoint.refused == []
    (copy_id,) = volumes.copies
    assert uri == f"oci://us-phoenix-1/bootVolumeBackups/{copy_id}"
    (body,) = endpoint.bodies("CopyBootVolumeBackup")
    assert body == {"destinationRegion": "us-phoenix-1", "displayName": "before the move (archive)"}
    assert volumes.copies[copy_id]["sourceBootVolumeBackupId"] == backup.id
    assert volumes.backups[backup.id]["lifecycleState"] == "AVAILABLE"  # the caller deletes it


def test_archive_without_an_archive_region_names_the_setting(
    endpoint: ComputeEndpoint, config_file: Path, tmp_path: Path, waits: Waits
) -> None:
    backend = open_backend(endpoint, config_file, tmp_path, waits, archive_region="")
    backup_id = available_backup(backend, endpoint)
    with pytest.raises(ConfigError, match=r"\[sessions.oci\] archive_region"):
        backend.archive_backup(backup_id)
    assert endpoint.count("CopyBootVolumeBackup") == 0


# --- OCI's refusals ------------------------------------------------------------------------


def test_out_of_host_capacity_is_a_refusal_that_says_what_to_do(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    endpoint.full_domains = {AD2}
    with pytest.raises(DesktopRefused) as refused:
        backend.launch(launch())
    assert "Out of host capacity" in refused.value.message
    assert "another desktop profile" in refused.value.message
    assert refused.value.status == 503 and refused.value.retryable
    assert endpoint.count("LaunchInstance") == 1  # an answer, not a glitch: not retried
    assert endpoint.instances == {}


def test_a_service_limit_is_a_refusal_that_says_to_ask_it(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    endpoint.limit = 0
    with pytest.raises(DesktopRefused) as refused:
        backend.launch(launch())
    assert "LimitExceeded" in refused.value.message and "ask IT" in refused.value.message
    endpoint.limit = None
    endpoint.fail("CreateBootVolumeBackup", 400, "QuotaExceeded", "Backup quota exceeded.")
    desktop = backend.launch(launch())
    endpoint.advance()
    with pytest.raises(DesktopRefused, match="QuotaExceeded"):
        backend.backup(desktop.id, BackupKind.FULL, "x")


def test_throttled_requests_are_retried_a_bounded_number_of_times_then_refused(
    backend: OciDesktops, endpoint: ComputeEndpoint, waits: Waits
) -> None:
    endpoint.fail("LaunchInstance", 429, "TooManyRequests", "Too many requests.", 2)
    backend.launch(launch(session_id=1))
    assert list(waits) == [0.5, 1.0]

    waits.clear()
    endpoint.fail("LaunchInstance", 429, "TooManyRequests", "Too many requests.", 10)
    before = endpoint.count("LaunchInstance")
    with pytest.raises(DesktopRefused, match="try again in a minute"):
        backend.launch(launch(session_id=2))
    assert list(waits) == [0.5, 1.0, 2.0]
    assert endpoint.count("LaunchInstance") - before == 4


def test_refused_credentials_name_the_config_to_fix(
    endpoint: ComputeEndpoint, tmp_path: Path, waits: Waits
) -> None:
    stranger = new_api_key(TENANCY, "ocid1.user.oc1..stranger")  # not trusted by the endpoint
    config = oci_config(tmp_path / "stranger", stranger)
    backend = open_backend(endpoint, config, tmp_path, waits)

    with pytest.raises(ConfigError) as refused:
        backend.launch(launch())
    assert "NotAuthenticated" in refused.value.message
    assert str(config) in refused.value.message and "DEFAULT" in refused.value.message
    with pytest.raises(ConfigError):
        backend.backup_info("ocid1.bootvolumebackup.oc1..x")
    assert endpoint.count("LaunchInstance") == 0
    assert endpoint.refused and all("401 NotAuthenticated" in r for r in endpoint.refused)


def test_any_other_answer_is_a_cloud_error_with_ocis_words(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    endpoint.fail("LaunchInstance", 500, "InternalError", "Something broke.")
    with pytest.raises(CloudError, match="500 InternalError: Something broke"):
        backend.launch(launch())


def test_placement_falls_back_to_cloud_oci(
    endpoint: ComputeEndpoint, config_file: Path, tmp_path: Path, waits: Waits
) -> None:
    backend = open_backend(endpoint, config_file, tmp_path, waits, availability_domain="")
    backend.launch(launch())
    assert endpoint.bodies("LaunchInstance")[-1]["availabilityDomain"] == AD1

    backend = open_backend(endpoint, config_file, tmp_path, waits, subnet_id="")
    with pytest.raises(CloudError, match="NotAuthorizedOrNotFound"):  # not the desktops' subnet
        backend.launch(launch())
    assert endpoint.bodies("LaunchInstance")[-1]["createVnicDetails"]["subnetId"] == RENDER_SUBNET


def test_a_profile_without_an_image_is_a_config_error(
    backend: OciDesktops, endpoint: ComputeEndpoint
) -> None:
    with pytest.raises(ConfigError, match="image_id of desktop profile lookdev"):
        backend.launch(launch(profile=LOOKDEV.model_copy(update={"image_id": ""})))
    assert endpoint.seen == []


def test_the_session_secret_never_reaches_a_log_or_a_repr(
    backend: OciDesktops,
    endpoint: ComputeEndpoint,
    caplog: pytest.LogCaptureFixture,
    waits: Waits,
) -> None:
    caplog.set_level(logging.DEBUG)
    request = launch()
    desktop = backend.launch(request)
    endpoint.advance()
    backup = backend.backup(desktop.id, BackupKind.FULL, "x")
    endpoint.advance()
    waits.then, waits.then_after = endpoint.advance, 1
    backend.launch(launch(session_id=8, restore=backup.id))
    endpoint.fail("LaunchInstance", 500, "InternalError", "Out of host capacity.")
    with pytest.raises(DesktopRefused) as refused:
        backend.launch(request)

    assert SECRET not in caplog.text
    assert SECRET not in repr(request) and SECRET not in repr(desktop)
    assert SECRET not in refused.value.message and SECRET not in repr(backend.desktops())
    # on the desktop it is only in the 0600 file, never on a command line
    for body in endpoint.bodies("LaunchInstance")[:2]:
        assert SECRET not in " ".join(exec_start(cloud_config(body)))


# --- the stand-in refuses what OCI would -------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "wrong", "status"),
    [
        ("CreateBootVolumeBackup", {"freeform_tags": {}}, 400),
        ("CreateBootVolumeBackup", {"type": "DIFFERENTIAL"}, 400),
        ("CreateBootVolumeBackup", {"boot_volume_id": "ocid1.bootvolume.oc1..nosuch"}, 404),
        ("CreateBootVolume", {"compartment_id": "ocid1.compartment.oc1..other"}, 404),
        ("CreateBootVolume", {"availability_domain": "Uocm:US-ASHBURN-AD-9"}, 400),
        ("CreateBootVolume", {"freeform_tags": {"cloudburst-farm": FARM}}, 400),
    ],
)
def test_the_block_storage_stand_in_refuses_requests_oci_would_refuse(
    backend: OciDesktops,
    endpoint: ComputeEndpoint,
    volumes: BlockStorage,
    config_file: Path,
    tmp_path: Path,
    operation: str,
    wrong: dict[str, Any],
    status: int,
) -> None:
    from daemon.backends.oci_client import make_blockstorage_client

    sdk = oci.core.models
    backup_id = available_backup(backend, endpoint)
    (volume_id,) = volumes.volumes
    made = (len(volumes.volumes), len(volumes.backups))
    settings = settings_for(endpoint, config_file, tmp_path)
    client = make_blockstorage_client(settings.cloud.oci, endpoint.url)
    details: Any
    if operation == "CreateBootVolume":
        method = client.create_boot_volume
        details = sdk.CreateBootVolumeDetails(
            compartment_id=COMPARTMENT,
            availability_domain=AD2,
            freeform_tags=our_tags(),
            source_details=sdk.BootVolumeSourceFromBootVolumeBackupDetails(id=backup_id),
        )
    else:
        method = client.create_boot_volume_backup
        details = sdk.CreateBootVolumeBackupDetails(
            boot_volume_id=volume_id,
            type="FULL",
            freeform_tags={**our_tags(3), "cloudburst-snapshot-kind": "full"},
        )
    method(details)  # as it is, it is taken
    for name, value in wrong.items():
        setattr(details, f"_{name}", value)  # past the SDK's own checks, as another client
    try:
        with pytest.raises(oci.exceptions.ServiceError) as refused:
            method(details)
    finally:
        client.base_client.session.close()
    assert refused.value.status == status
    assert refused.value.code in ("InvalidParameter", "NotAuthorizedOrNotFound")
    one_volume, one_backup = (1, 0) if operation == "CreateBootVolume" else (0, 1)
    assert (len(volumes.volumes), len(volumes.backups)) == (
        made[0] + one_volume,
        made[1] + one_backup,
    )


def test_the_compute_stand_in_refuses_a_desktop_launch_with_a_public_ip_or_without_its_agent(
    backend: OciDesktops, endpoint: ComputeEndpoint, config_file: Path, tmp_path: Path
) -> None:
    from common.data.store_config import StoreSettings
    from daemon.backends.cloud_init import AgentBootstrap, encode_user_data, render_user_data
    from daemon.backends.oci_client import make_compute_client

    backend.launch(launch())
    desktop_data = endpoint.bodies("LaunchInstance")[0]["metadata"]["user_data"]
    store = StoreSettings(kind="oci", bucket="renders")
    bootstrap = AgentBootstrap(daemon_url="http://d:1", store=store)
    node_data = encode_user_data(
        render_user_data(bootstrap, name="n", pool="p", enrollment_token="t")
    )
    sdk = oci.core.models

    def details(public_ip: bool, user_data: str) -> Any:
        return sdk.LaunchInstanceDetails(
            compartment_id=COMPARTMENT, availability_domain=AD2, shape="VM.GPU.A10.1",
            display_name="d", freeform_tags=our_tags(),
            source_details=sdk.InstanceSourceViaImageDetails(
                image_id=IMAGE, boot_volume_size_in_gbs=100),
            create_vnic_details=sdk.CreateVnicDetails(
                subnet_id=DESKTOP_SUBNET, assign_public_ip=public_ip, freeform_tags=our_tags()),
            metadata={"user_data": user_data},
        )  # fmt: skip

    client = make_compute_client(settings_for(endpoint, config_file, tmp_path).cloud.oci)
    try:
        for public_ip, user_data in ((True, desktop_data), (False, node_data)):
            with pytest.raises(oci.exceptions.ServiceError) as refused:
                client.launch_instance(details(public_ip, user_data), opc_retry_token="x1")
            assert refused.value.status == 400
        client.launch_instance(details(False, desktop_data), opc_retry_token="x2")
    finally:
        client.base_client.session.close()
    assert len(endpoint.instances) == 2  # the backend's and the good one
