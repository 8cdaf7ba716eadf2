"""``SimDesktops``: real desktop agent processes against a stand-in of the daemon's desktop
endpoints, their boot volumes and backups as folders, archives in a folder or in a real
SeaweedFS S3 server."""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from common.config import Settings
from common.desktop_settings import DesktopProfile
from common.errors import ConfigError
from daemon.backends import sim_desktop_records as records
from daemon.backends.base import TAG_FARM, TAG_SESSION, CloudError
from daemon.backends.desktops import (
    BackupKind,
    BackupState,
    Desktop,
    DesktopLaunch,
    DesktopRefused,
    DesktopState,
    configured_desktop_backend,
)
from daemon.backends.sim_desktop_records import DesktopRecord
from daemon.backends.sim_desktops import SimDesktops
from tests.cloud_agent.desktop_client import DesktopClient
from tests.cloud_agent.desktop_daemon import StandInDaemon, stand_in_daemon
from tests.waiting import gone, wait_until

PROFILE = DesktopProfile(name="comp", protocol="dcv", price_per_hour=1.5)
TIMEOUT = 30.0


def make_settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        desktops=[PROFILE],
        sessions={"backend": "simcloud", "simcloud": {"boot_delay_s": 0}},
        **extra,
    )


class World:
    """A stand-in daemon, the backend, and the sessions launched on it."""

    def __init__(self, backend: SimDesktops, daemon: StandInDaemon, url: str) -> None:
        self.backend, self.daemon, self.url = backend, daemon, url
        self.sessions = 0
        self.others: list[SimDesktops] = []

    def restarted(self, settings: Settings) -> SimDesktops:
        """A second backend over the same folder, as a daemon started again makes."""
        backend = SimDesktops(settings)
        self.others.append(backend)
        return backend

    def launch(self, restore: str | None = None) -> Desktop:
        self.sessions += 1
        secret = f"cbs_secret-of-{self.sessions}"
        self.daemon.secrets[self.sessions] = secret
        return self.backend.launch(
            DesktopLaunch(
                session_id=self.sessions,
                name=f"cloudburst-desktop-{self.sessions}",
                profile=PROFILE,
                user="alice",
                project="show",
                daemon_url=self.url,
                secret=secret,
                restore_backup_id=restore,
                report_interval_s=0.1,
            )
        )

    def running(self, desktop: Desktop) -> Desktop:
        """Waits for the desktop's display port and its first report."""
        found = self.backend.wait_for(desktop.id, lambda d: d.port > 0, TIMEOUT)
        assert found is not None, self.log(desktop)
        session = found.session_id
        assert session is not None
        wait_until(lambda: bool(self.daemon.reports_of(session)))
        return found

    def client(self, desktop: Desktop) -> DesktopClient:
        """A client connected to the desktop with a fresh one-time token."""
        token = f"cbc_{desktop.id}-{len(self.daemon.redeemed)}"
        assert desktop.session_id is not None
        self.daemon.tokens[token] = (desktop.session_id, "alice")
        client = DesktopClient(f"http://{desktop.host}:{desktop.port}")
        client.connect(token)
        return client

    def log(self, desktop: Desktop) -> str:
        log = self.backend.volume_folder(desktop.id) / "agent.log"
        return log.read_text() if log.exists() else "(no log)"

    def available(self, backup_id: str) -> None:
        wait_until(lambda: self.state(backup_id) is not BackupState.CREATING)
        assert self.state(backup_id) is BackupState.AVAILABLE

    def state(self, backup_id: str) -> BackupState | None:
        info = self.backend.backup_info(backup_id)
        return None if info is None else info.state


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    daemon = StandInDaemon()
    with stand_in_daemon(daemon) as url:
        backend = SimDesktops(make_settings(tmp_path))
        world = World(backend, daemon, url)
        try:
            yield world
        finally:
            for other in (*world.others, backend):
                other.terminate_all()


def test_the_settings_name_it(tmp_path: Path) -> None:
    backend = configured_desktop_backend(make_settings(tmp_path))
    assert isinstance(backend, SimDesktops)
    assert backend.shelf.root == tmp_path / "data" / "simcloud-desktops"
    backend.close()


def test_a_launched_desktop_boots_its_agent_which_reports(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDBURST_TOKEN", "the daemon's own")
    asked = world.launch()
    assert (asked.state, asked.session_id, asked.port) == (DesktopState.PROVISIONING, 1, 0)
    assert asked.tags[TAG_SESSION] == "1" and asked.tags[TAG_FARM] == "cloudburst"
    desktop = world.running(asked)
    assert desktop.state is DesktopState.RUNNING
    report = world.daemon.reports_of(1)[0]
    assert (report.host, report.port) == (desktop.host, desktop.port) == ("127.0.0.1", report.port)
    assert [d.id for d in world.backend.desktops()] == [desktop.id]
    pid = world.backend.pid(desktop.id)
    assert pid is not None
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert not [v for v in environ if v.startswith(b"CLOUDBURST_")]
    assert b"cbs_secret-of-1" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    secret = world.backend.volume_folder(desktop.id) / "secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert secret.read_text().strip() == "cbs_secret-of-1"
    assert list((secret.parent / "home").iterdir()) == []  # not in the user's folder


def test_a_backup_restores_into_a_new_desktop_with_the_files_of_the_first(world: World) -> None:
    first = world.running(world.launch())
    client = world.client(first)
    client.put("shots/sh010/comp.nk", b"version 1")
    client.put("notes.txt", b"keep me")
    full = world.backend.backup(first.id, BackupKind.FULL, "daily")
    assert full.state in (BackupState.CREATING, BackupState.AVAILABLE)
    world.available(full.id)

    client.put("shots/sh010/comp.nk", b"version 2")
    client.put("later.txt", b"new")
    (world.backend.volume_folder(first.id) / "home" / "notes.txt").unlink()
    incremental = world.backend.backup(first.id, BackupKind.INCREMENTAL, "daily")
    world.available(incremental.id)
    held = world.backend.shelf.backups / incremental.id / "home"
    assert sorted(p.relative_to(held).as_posix() for p in held.rglob("*") if p.is_file()) == [
        "later.txt",
        "shots/sh010/comp.nk",
    ]

    from_full = world.running(world.launch(restore=full.id))
    assert world.client(from_full).get("shots/sh010/comp.nk") == b"version 1"
    assert world.client(from_full).get("notes.txt") == b"keep me"

    world.backend.delete_backup(full.id)  # the incremental still takes files from it
    assert world.backend.backup_info(full.id) is None
    from_incremental = world.running(world.launch(restore=incremental.id))
    home = world.backend.volume_folder(from_incremental.id) / "home"
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if p.is_file()) == [
        "later.txt",
        "shots/sh010/comp.nk",
    ]
    assert world.client(from_incremental).get("shots/sh010/comp.nk") == b"version 2"


def test_terminate_leaves_no_process_and_no_volume(world: World) -> None:
    desktop = world.running(world.launch())
    pid = world.backend.pid(desktop.id)
    volume = world.backend.volume_folder(desktop.id)
    world.backend.terminate(desktop.id)
    assert pid is not None and gone(pid)
    assert not volume.exists()
    assert world.backend.desktop(desktop.id) is None
    assert world.backend.desktops() == []
    world.backend.terminate(desktop.id)  # again: nothing to do
    with pytest.raises(DesktopRefused):
        world.backend.backup(desktop.id, BackupKind.FULL, "too late")


def test_a_desktop_whose_agent_was_told_to_end_stays_until_terminated(world: World) -> None:
    desktop = world.running(world.launch())
    world.daemon.end_now = True
    exited = world.backend.wait_for(desktop.id, lambda d: "exited" in d.detail, TIMEOUT)
    assert exited is not None and exited.state is DesktopState.RUNNING
    assert exited.detail == "its desktop agent exited (0)"
    world.backend.terminate(desktop.id)
    assert world.backend.desktops() == []


def test_restoring_a_backup_that_is_not_available_is_refused_and_makes_nothing(
    world: World,
) -> None:
    with pytest.raises(DesktopRefused, match="simbackup-nope"):
        world.launch(restore="simbackup-nope")
    assert world.backend.desktops() == []
    assert list(world.backend.shelf.volumes.glob("*")) == []


def test_archive_to_the_folder(world: World) -> None:
    desktop = world.running(world.launch())
    world.client(desktop).put("a/b.txt", b"archived")
    full = world.backend.backup(desktop.id, BackupKind.FULL, "f")
    world.available(full.id)
    world.client(desktop).put("c.txt", b"later")
    incremental = world.backend.backup(desktop.id, BackupKind.INCREMENTAL, "i")
    world.available(incremental.id)
    uri = world.backend.archive_backup(incremental.id)
    assert uri.startswith("file://") and uri.endswith(f"/{incremental.id}.tar.gz")
    with tarfile.open(urlparse(uri).path) as archive:
        names = sorted(archive.getnames())
        assert names == ["home/a/b.txt", "home/c.txt"]  # the whole home, chain applied
        member = archive.extractfile("home/a/b.txt")
        assert member is not None and member.read() == b"archived"
    assert world.state(incremental.id) is BackupState.AVAILABLE  # the caller deletes it
    with pytest.raises(DesktopRefused):
        world.backend.archive_backup("simbackup-unknown")


def test_archive_to_the_object_store(tmp_path: Path, weed: Any) -> None:
    from common.data.store_config import StoreSettings
    from tests.common.data import seaweed

    prefix = f"t-{os.getpid()}-{time.monotonic_ns()}/"
    store = StoreSettings(
        endpoint=weed.endpoint,
        bucket=seaweed.BUCKET,
        prefix=prefix,
        region="us-east-1",
        access_key_id=seaweed.ACCESS_KEY,
        secret_access_key=seaweed.SECRET_KEY,
    )
    daemon = StandInDaemon()
    with stand_in_daemon(daemon) as url:
        backend = SimDesktops(make_settings(tmp_path, store=store))
        try:
            world = World(backend, daemon, url)
            desktop = world.running(world.launch())
            world.client(desktop).put("scene.blend", b"\x00blend")
            full = backend.backup(desktop.id, BackupKind.FULL, "f")
            world.available(full.id)
            uri = backend.archive_backup(full.id)
        finally:
            backend.terminate_all()
    key = f"desktop-archives/{full.id}.tar.gz"
    assert uri == f"s3://{seaweed.BUCKET}/{prefix}{key}"
    archive = tmp_path / "back.tar.gz"
    archive.write_bytes(b"".join(weed.store(prefix).get(key)))
    with tarfile.open(archive) as opened:
        member = opened.extractfile("home/scene.blend")
        assert member is not None and member.read() == b"\x00blend"
    assert not list((backend.shelf.archive).glob("*"))


def test_archive_to_a_store_whose_library_is_missing_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.data.store_config import StoreSettings

    store = StoreSettings(
        endpoint="http://127.0.0.1:9", bucket="renders", region="us-east-1",
        access_key_id="k", secret_access_key="s",
    )  # fmt: skip
    daemon = StandInDaemon()
    with stand_in_daemon(daemon) as url:
        backend = SimDesktops(make_settings(tmp_path, store=store))
        try:
            world = World(backend, daemon, url)
            desktop = world.running(world.launch())
            full = backend.backup(desktop.id, BackupKind.FULL, "f")
            world.available(full.id)
            monkeypatch.setitem(sys.modules, "common.data.s3", None)  # boto3 not installed
            with pytest.raises(ConfigError, match=r"Install cloudburst\[data\]"):
                backend.archive_backup(full.id)
            assert world.state(full.id) is BackupState.AVAILABLE
            assert not list(backend.shelf.archive.glob("*"))
        finally:
            backend.terminate_all()


def test_deleted_backups_leave_no_files_once_nothing_needs_them(world: World) -> None:
    desktop = world.running(world.launch())
    world.client(desktop).put("a.txt", b"a")
    full = world.backend.backup(desktop.id, BackupKind.FULL, "f")
    world.available(full.id)
    incremental = world.backend.backup(desktop.id, BackupKind.INCREMENTAL, "i")
    world.available(incremental.id)
    world.backend.delete_backup(full.id)
    assert (world.backend.shelf.backups / full.id).exists()  # the incremental needs a.txt
    world.backend.delete_backup(incremental.id)
    world.backend.delete_backup(incremental.id)  # idempotent
    assert list(world.backend.shelf.backups.iterdir()) == []
    assert world.backend.backup_info(incremental.id) is None


def test_terminate_all_leaves_no_process(tmp_path: Path) -> None:
    daemon = StandInDaemon()
    with stand_in_daemon(daemon) as url:
        backend = SimDesktops(make_settings(tmp_path))
        world = World(backend, daemon, url)
        desktops = [world.running(world.launch()) for _ in range(2)]
        pids = [backend.pid(d.id) for d in desktops]
        backend.terminate_all()
    assert all(pid is not None and gone(pid) for pid in pids)
    assert backend.desktops() == []
    with pytest.raises(CloudError):
        world.launch()


def test_backup_ids_that_are_not_ours_name_no_folder(tmp_path: Path) -> None:
    backend = SimDesktops(make_settings(tmp_path))
    outside = backend.shelf.root / "backups" / ".." / "volumes"
    outside.mkdir(parents=True)
    for wrong in ("../volumes", "simbackup-../../x", "simbackup-ABC", "a\x00b", ""):
        assert backend.backup_info(wrong) is None
        backend.delete_backup(wrong)
        with pytest.raises(DesktopRefused):
            backend.archive_backup(wrong)
    assert outside.is_dir()
    backend.close()


# --- a daemon started again: desktops left behind --------------------------------------------


def test_close_leaves_desktops_running_and_a_new_backend_adopts_them(
    world: World, tmp_path: Path
) -> None:
    desktop = world.running(world.launch())
    world.client(desktop).put("shots/a.nk", b"kept")
    pid = world.backend.pid(desktop.id)
    assert pid is not None
    world.backend.close()  # the daemon stops: the artist's desktop goes on
    assert not gone(pid)

    again = world.restarted(make_settings(tmp_path))
    adopted = again.desktop(desktop.id)
    assert adopted is not None
    assert (adopted.state, adopted.session_id, adopted.port) == (
        DesktopState.RUNNING,
        desktop.session_id,
        desktop.port,
    )
    assert [d.id for d in again.desktops()] == [desktop.id]
    assert again.pid(desktop.id) == pid
    assert world.client(adopted).get("shots/a.nk") == b"kept"  # a new token, redeemed
    backup = again.backup(desktop.id, BackupKind.FULL, "after the restart")
    world.backend = again
    world.available(backup.id)

    volume = again.volume_folder(desktop.id)
    again.terminate(desktop.id)
    assert gone(pid)
    assert not volume.exists()
    assert again.desktops() == []


def test_a_desktop_whose_agent_is_gone_is_cleaned_up_and_its_backups_stay(
    world: World, tmp_path: Path
) -> None:
    desktop = world.running(world.launch())
    world.client(desktop).put("a.txt", b"a")
    backup = world.backend.backup(desktop.id, BackupKind.FULL, "f")
    world.available(backup.id)
    pid = world.backend.pid(desktop.id)
    assert pid is not None
    volume = world.backend.volume_folder(desktop.id)
    os.killpg(pid, signal.SIGKILL)  # the machine died with the daemon
    wait_until(lambda: gone(pid))

    again = world.restarted(make_settings(tmp_path))
    assert again.desktops() == [] and again.desktop(desktop.id) is None
    assert not volume.exists()
    info = again.backup_info(backup.id)
    assert info is not None and info.state is BackupState.AVAILABLE


def test_a_record_keeps_every_field_of_the_launch_but_its_secret() -> None:
    launch = DesktopLaunch(
        session_id=4, name="d4", profile=PROFILE, user="alice", project="show",
        daemon_url="http://127.0.0.1:9", secret="cbs_s", restore_backup_id="simbak-0",
        report_interval_s=2.5,
    )  # fmt: skip
    record = DesktopRecord.of("simdesk-000000000004", "simvol-000000000004", 1.0, launch,
                              pid=4242, started="77")  # fmt: skip
    again = DesktopRecord.model_validate_json(record.model_dump_json())
    assert again.request() == dataclasses.replace(launch, secret="")
    assert again.request().profile == PROFILE
    assert (again.pid, again.started) == (4242, "77")
    assert "cbs_s" not in record.model_dump_json()


def test_a_recorded_process_id_that_is_another_process_is_neither_adopted_nor_signalled(
    tmp_path: Path,
) -> None:
    """The recorded id names this test's own process: once with another start time (a reused
    id), once with its true start time but a command line that is not the volume's agent."""
    settings = make_settings(tmp_path)
    volumes = settings.data_dir / "simcloud-desktops" / "volumes"
    launch = DesktopLaunch(
        session_id=1, name="d", profile=PROFILE, user="alice", project="show",
        daemon_url="http://127.0.0.1:9", secret="cbs_s",
    )  # fmt: skip
    for n, started in enumerate(("1", records.process_start(os.getpid()))):
        folder = volumes / f"simvol-00000000000{n}"
        folder.mkdir(parents=True)
        record = DesktopRecord.of(f"simdesk-00000000000{n}", folder.name, time.time(), launch)
        records.save(folder, record.model_copy(update={"pid": os.getpid(), "started": started}))

    backend = SimDesktops(settings)  # adopted, this very process would be terminated with it
    assert backend.desktops() == []
    assert list(volumes.iterdir()) == []
    backend.close()


def test_a_desktop_asked_for_and_not_booted_boots_under_the_new_backend(
    world: World, tmp_path: Path
) -> None:
    slow = SimDesktops(
        Settings(
            data_dir=tmp_path / "data",
            desktops=[PROFILE],
            sessions={"backend": "simcloud", "simcloud": {"boot_delay_s": 3600}},
        )
    )
    world.others.append(slow)
    world.backend = slow
    asked = world.launch()
    slow.close()  # stopped before it booted

    again = world.restarted(make_settings(tmp_path))
    world.backend = again
    desktop = world.running(asked)
    assert desktop.state is DesktopState.RUNNING and again.pid(desktop.id) is not None
    assert world.client(desktop).status()["connected"] is True


def test_a_backup_copy_cut_short_is_finished_by_the_new_backend(
    world: World, tmp_path: Path
) -> None:
    desktop = world.running(world.launch())
    world.client(desktop).put("scene.blend", b"work")
    volume_id = world.backend.volume_folder(desktop.id).name
    cut = world.backend.shelf.start_backup(  # as a daemon killed in the middle of its copy
        "simbackup-0123456789ab", volume_id, BackupKind.FULL, "end", time.time()
    )
    assert world.state(cut.id) is BackupState.CREATING

    again = world.restarted(make_settings(tmp_path))
    world.backend = again
    world.available(cut.id)
    restored = world.running(world.launch(restore=cut.id))
    assert world.client(restored).get("scene.blend") == b"work"


def test_a_launch_record_keeps_every_field_of_a_launch_but_its_secret() -> None:
    launch_fields = {f.name for f in dataclasses.fields(DesktopLaunch)}
    assert set(records.LaunchRecord.model_fields) == launch_fields - {"secret"}
