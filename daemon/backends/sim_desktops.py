"""``SimDesktops``: artists' desktops as local processes, their boot volumes as folders.

A desktop asked for gets a boot volume at once (``sim_volumes``: an empty home, or the files
of the backup it restores) with its session's secret in a 0600 file beside home, and boots
after ``[sessions.simcloud] boot_delay_s`` (a timer: ``launch`` returns at once): the desktop
agent, ``python -m cloud_agent.desktop``, starts in a process group of its own with this
machine's environment less every ``CLOUDBURST_*`` setting, bound to 127.0.0.1 on a port it
picks and writes to the volume (``display-port``), from which ``Desktop.port`` is read.

As a cloud instance outlives the programs on it, a desktop whose agent exited (told to end,
or crashed) stays listed, with the exit in ``detail``, until it is terminated: the daemon
then sees it silent and ends its session. ``terminate`` waits for the volume's backups in
progress, SIGTERMs the agent's group, SIGKILLs it after ``STOP_GRACE_S`` and removes the
volume. ``terminate_all`` does it to every desktop and waits for every process and copy.

As a cloud's instances outlive the daemon, desktops outlive this object: ``close`` (the
daemon's stop) leaves them running, and each volume keeps its desktop's record
(``sim_desktop_records``). A new ``SimDesktops`` over the same folder adopts the desktops whose
agent still runs (the very process: same id, same start time, its volume's command line),
boots those asked for and not booted yet, cleans up those whose agent is gone (the volume goes,
its backups stay: the daemon's sessions pass then ends their sessions), and finishes the
backup copies that were under way.

Backups are copies of home taken on a thread of their own (``creating`` until done).
``archive_backup`` writes a backup as a tar.gz to the farm's object store (``[store]``) under
``desktop-archives/<id>.tar.gz``, else to the ``archive`` folder.

Threads: boot timers, one watcher per running agent and one per backup copy; the state is
under one condition (``wait_for`` waits on it).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.config import Settings
from common.data.errors import DataError
from common.errors import ConfigError
from common.private_files import private_dir, write_private
from daemon.backends import sim_desktop_records as records
from daemon.backends.base import TAG_FARM, TAG_SESSION, CloudError
from daemon.backends.desktops import (
    TAG_PROFILE,
    TAG_USER,
    BackupKind,
    BackupState,
    Desktop,
    DesktopLaunch,
    DesktopRefused,
    DesktopState,
    VolumeBackup,
)
from daemon.backends.sim_archive import upload_archive
from daemon.backends.sim_desktop_records import AdoptedProcess, DesktopRecord
from daemon.backends.sim_volumes import BackupRecord, VolumeShelf
from daemon.backends.simcloud import (
    clean_environment,
    kill_group,
    kill_group_of,
    start_machine,
)

Agent = subprocess.Popen[bytes] | AdoptedProcess

logger = logging.getLogger(__name__)

#: Between SIGTERM and SIGKILL when a desktop is terminated.
STOP_GRACE_S = 5.0
_KILL_WAIT_S = 5.0
PORT_FILE = "display-port"
SECRET_FILE = "secret"


@dataclass
class _Instance:
    """One simulated desktop; mutable, under the backend's condition."""

    id: str
    launch: DesktopLaunch
    volume_id: str
    launched_at: float
    state: DesktopState = DesktopState.PROVISIONING
    detail: str = ""
    port: int = 0
    process: Agent | None = None
    timer: threading.Timer | None = None
    watcher: threading.Thread | None = None


@dataclass
class _Copy:
    volume_id: str
    thread: threading.Thread = field(repr=False)


class SimDesktops:
    """Desktops on this machine. Thread-safe."""

    name = "simcloud"

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.sim = settings.sessions.simcloud
        self.farm = settings.cloud.farm
        root = Path(self.sim.folder) if self.sim.folder else settings.data_dir / "simcloud-desktops"
        self.shelf = VolumeShelf(private_dir(root))
        self._clock = clock
        self._cond = threading.Condition()
        self._instances: dict[str, _Instance] = {}
        self._copies: dict[str, _Copy] = {}
        self._closed = False
        self._adopt()

    # --- DesktopBackend: instances ---------------------------------------------------------

    def launch(self, request: DesktopLaunch) -> Desktop:
        suffix = uuid.uuid4().hex[:12]
        with self._cond:
            if self._closed:
                raise CloudError("The simulated cloud's desktops are closed.")
            restore = request.restore_backup_id
            if restore is not None:
                self._available(
                    restore, "restored", "start from an available snapshot, or without one"
                )
            instance = _Instance(
                id=f"simdesk-{suffix}",
                launch=request,
                volume_id=f"simvol-{suffix}",
                launched_at=self._clock(),
            )
            try:
                folder = self.shelf.new_volume(instance.volume_id, from_backup=restore)
                write_private(folder / SECRET_FILE, request.secret + "\n")
                records.save(folder, self._record(instance))
            except OSError as exc:
                self.shelf.remove_volume(instance.volume_id)
                raise CloudError(f"The simulated cloud cannot make a boot volume: {exc}") from exc
            self._instances[instance.id] = instance
            instance.timer = threading.Timer(self.sim.boot_delay_s, self._boot, (instance.id,))
            instance.timer.daemon = True
            instance.timer.start()
            logger.info(
                "simcloud: desktop %s (%s) for session %d asked for%s",
                instance.id, request.name, request.session_id,
                f", restoring {restore}" if restore else "",
            )  # fmt: skip
            return self._describe(instance)

    def desktops(self) -> list[Desktop]:
        with self._cond:
            return [
                self._describe(i)
                for i in self._instances.values()
                if i.state is not DesktopState.TERMINATED
            ]

    def desktop(self, desktop_id: str) -> Desktop | None:
        with self._cond:
            instance = self._instances.get(desktop_id)
            if instance is None or instance.state is DesktopState.TERMINATED:
                return None
            return self._describe(instance)

    def terminate(self, desktop_id: str) -> None:
        with self._cond:
            instance = self._instances.get(desktop_id)
            if instance is None or _ending(instance):
                return
            self._set(instance, DesktopState.TERMINATING, "terminating")
            if instance.timer is not None:
                instance.timer.cancel()
        self._stop(instance, "terminated")
        logger.info("simcloud: desktop %s terminated", desktop_id)

    def wait_for(
        self, desktop_id: str, ready: Callable[[Desktop], bool], timeout: float
    ) -> Desktop | None:
        """Waits until the desktop, described, satisfies ``ready``; None when ``timeout``
        passes first (tests, and whoever watches a simulated desktop boot)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            instance = self._instances[desktop_id]
            while True:
                described = self._describe(instance)
                if ready(described):
                    return described
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(timeout=min(left, 0.05))  # the port file is not notified

    def pid(self, desktop_id: str) -> int | None:
        """The desktop agent's process id, once booted."""
        with self._cond:
            process = self._instances[desktop_id].process
            return None if process is None else process.pid

    def volume_folder(self, desktop_id: str) -> Path:
        """The desktop's boot volume (its ``home`` is the user's folder)."""
        with self._cond:
            return self.shelf.volume(self._instances[desktop_id].volume_id)

    # --- DesktopBackend: backups -----------------------------------------------------------

    def backup(self, desktop_id: str, kind: BackupKind, name: str) -> VolumeBackup:
        with self._cond:
            instance = self._instances.get(desktop_id)
            if instance is None or _ending(instance):
                raise DesktopRefused(
                    f"The desktop {desktop_id} is gone, and its boot volume with it: snapshot "
                    "a running desktop."
                )
            backup_id = f"simbackup-{uuid.uuid4().hex[:12]}"  # sim_volumes.BACKUP_ID
            record = self.shelf.start_backup(
                backup_id, instance.volume_id, kind, name, self._clock()
            )
            self._start_copy(backup_id, instance.volume_id)
        return _backup(record)

    def backup_info(self, backup_id: str) -> VolumeBackup | None:
        with self._cond:
            record = self.shelf.record(backup_id)
        if record is None or record.state is BackupState.TERMINATED:
            return None
        return _backup(record)

    def delete_backup(self, backup_id: str) -> None:
        self._join_copies(lambda bid, copy: bid == backup_id)
        with self._cond:
            self.shelf.delete(backup_id)

    def archive_backup(self, backup_id: str) -> str:
        with self._cond:
            self._available(backup_id, "archived", "archive an available snapshot")
            part = self.shelf.archive / f".{backup_id}.{uuid.uuid4().hex[:8]}.part"
            try:
                self.shelf.write_archive(backup_id, part)
            except OSError as exc:
                part.unlink(missing_ok=True)
                raise CloudError(f"The simulated cloud cannot archive {backup_id}: {exc}") from exc
        try:
            if self.settings.store is not None:
                return upload_archive(self.settings.store, backup_id, part)
            target = self.shelf.archive / f"{backup_id}.tar.gz"
            part.replace(target)
            return target.resolve().as_uri()
        except DataError as exc:
            raise CloudError(
                f"The archive of {backup_id} could not be stored in the object store: {exc}"
            ) from exc
        except ImportError as exc:
            raise ConfigError(
                f"The archive of {backup_id} cannot reach the object store of [store]: its "
                f"library is not installed ({exc.name or exc}). Install cloudburst[data] (S3) or "
                "cloudburst[oci] (OCI) on the daemon's machine, or remove [store] to keep "
                "archives in the simulated cloud's folder."
            ) from exc
        finally:
            part.unlink(missing_ok=True)

    def close(self) -> None:
        """Launches no more and lets go, leaving the desktops running for the next
        ``SimDesktops`` over this folder (desktops not booted yet boot then). Waits for the
        terminations under way and the backup copies."""
        with self._cond:
            self._closed = True
            for instance in self._instances.values():
                if instance.timer is not None:
                    instance.timer.cancel()
            self._cond.wait_for(
                lambda: (
                    not any(i.state is DesktopState.TERMINATING for i in self._instances.values())
                ),
                timeout=STOP_GRACE_S + 2 * _KILL_WAIT_S,
            )
        self._join_copies(lambda bid, copy: True)

    def terminate_all(self) -> None:
        """Terminates every desktop (volumes go with them; backups stay), waits for every
        process and copy, and closes."""
        with self._cond:
            self._closed = True
            running = []
            for instance in self._instances.values():
                if instance.timer is not None:
                    instance.timer.cancel()
                if not _ending(instance):
                    self._set(instance, DesktopState.TERMINATING, "closed")
                    running.append(instance)
        for instance in running:
            self._stop(instance, "closed")
        self.close()  # and those a terminate was stopping meanwhile

    # --- inside ----------------------------------------------------------------------------

    def _boot(self, desktop_id: str) -> None:
        """Starts the desktop agent. On a timer thread."""
        with self._cond:
            instance = self._instances[desktop_id]
            if self._closed or instance.state is not DesktopState.PROVISIONING:
                return
            folder = self.shelf.volume(instance.volume_id)
            try:
                instance.process = start_machine(
                    self._command(instance, folder), clean_environment(), folder,
                    folder / "agent.log",
                )  # fmt: skip
            except OSError as exc:
                logger.error("simcloud: desktop %s cannot start its agent: %s", desktop_id, exc)
                self._set(instance, DesktopState.RUNNING, f"its desktop agent did not start: {exc}")
                return
            pid = instance.process.pid
            started = records.process_start(pid)
            try:
                records.save(folder, self._record(instance, pid=pid, started=started))
            except OSError as exc:  # it runs on; a daemon started again will not find it
                logger.error("simcloud: desktop %s: its record was not kept: %s", desktop_id, exc)
            self._running(instance, instance.process)
            logger.info("simcloud: desktop %s booted (pid %d)", desktop_id, pid)

    def _running(self, instance: _Instance, process: Agent) -> None:
        """Marks the desktop running and watches its agent. Under the condition."""
        instance.process = process
        self._set(instance, DesktopState.RUNNING, "")
        instance.watcher = threading.Thread(
            target=self._watch,
            args=(instance, process),
            name=f"simcloud-{instance.id}",
            daemon=True,
        )
        instance.watcher.start()

    def _command(self, instance: _Instance, folder: Path) -> list[str]:
        request = instance.launch
        return [
            sys.executable, "-m", "cloud_agent.desktop",
            "--daemon-url", request.daemon_url,
            "--session", str(request.session_id),
            "--secret-file", str(folder / SECRET_FILE),
            "--home", str(folder / "home"),
            "--bind", "127.0.0.1",
            "--port", "0",
            "--protocol", request.profile.protocol,
            "--port-file", str(folder / PORT_FILE),
            "--report-interval-s", str(request.report_interval_s),
        ]  # fmt: skip

    def _watch(self, instance: _Instance, process: Agent) -> None:
        """Notes when the agent is gone. On the desktop's watcher thread."""
        code = process.wait()
        kill_group_of(process.pid)  # what it left in its group
        with self._cond:
            if instance.state is DesktopState.RUNNING:
                instance.detail = "its desktop agent exited" + (
                    "" if code is None else f" ({code})"
                )
            self._cond.notify_all()
        logger.info("simcloud: desktop %s: agent exited (%s)", instance.id, code)

    def _stop(self, instance: _Instance, detail: str) -> None:
        """SIGTERM, SIGKILL after the grace, then the volume goes. Not under the condition."""
        process = instance.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_GRACE_S)
            kill_group(process)  # while not reaped: its id is still its own
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_KILL_WAIT_S)
        if instance.watcher is not None:
            instance.watcher.join(timeout=_KILL_WAIT_S)
        self._join_copies(lambda bid, copy: copy.volume_id == instance.volume_id)
        with self._cond:
            self.shelf.remove_volume(instance.volume_id)
            self._set(instance, DesktopState.TERMINATED, detail)

    def _adopt(self) -> None:
        """Takes on what a ``SimDesktops`` before this one left in the folder (see the
        module's docstring). At construction."""
        with self._cond:
            for backup in self.shelf.unfinished():
                if self.shelf.volume(backup.volume_id).is_dir():
                    self._start_copy(backup.id, backup.volume_id)
                else:
                    self.shelf.fail(backup.id, "its copy broke off and its boot volume is gone")
        for folder in self.shelf.volume_folders():
            record = records.load(folder)
            if record is None:  # a launch cut short before it was recorded
                self.shelf.remove_volume(folder.name)
                continue
            instance = _Instance(
                id=record.id,
                launch=record.request(),
                volume_id=record.volume_id,
                launched_at=record.launched_at,
            )
            self._instances[instance.id] = instance
            if record.pid is None:  # asked for, not booted yet: it boots, as in a cloud
                delay = max(0.0, record.launched_at + self.sim.boot_delay_s - self._clock())
                instance.timer = threading.Timer(delay, self._boot, (instance.id,))
                instance.timer.daemon = True
                instance.timer.start()
                logger.info("simcloud: desktop %s found not booted: it boots", instance.id)
                continue
            agent = AdoptedProcess.find(record, folder / SECRET_FILE)
            if agent is not None:
                with self._cond:
                    self._running(instance, agent)
                logger.info("simcloud: desktop %s adopted (pid %d)", instance.id, agent.pid)
                continue
            instance.state = DesktopState.TERMINATING
            self._stop(instance, "its desktop agent was gone when the daemon started")
            logger.warning("simcloud: desktop %s found with its agent gone: removed", record.id)

    def _record(
        self, instance: _Instance, *, pid: int | None = None, started: str | None = None
    ) -> DesktopRecord:
        return DesktopRecord.of(
            instance.id, instance.volume_id, instance.launched_at, instance.launch,
            pid=pid, started=started,
        )  # fmt: skip

    def _start_copy(self, backup_id: str, volume_id: str) -> None:
        """Copies the volume into the backup on a thread of its own. Under the condition."""
        thread = threading.Thread(
            target=self._copy, args=(backup_id,), name=f"simdesk-{backup_id}", daemon=True
        )
        self._copies[backup_id] = _Copy(volume_id, thread)
        thread.start()

    def _copy(self, backup_id: str) -> None:
        """Copies a volume into its backup. On the backup's own thread."""
        try:
            copied = self.shelf.copy(backup_id)
        except Exception as exc:
            logger.exception("simcloud: backup %s failed", backup_id)
            with self._cond:
                self.shelf.fail(backup_id, f"the copy failed: {exc}")
            return
        with self._cond:
            record = self.shelf.finish(copied)
        logger.info("simcloud: backup %s %s", backup_id, record.state.value)

    def _join_copies(self, which: Callable[[str, _Copy], bool]) -> None:
        with self._cond:
            copies = [(bid, c) for bid, c in self._copies.items() if which(bid, c)]
        for backup_id, copy in copies:
            copy.thread.join()
            with self._cond:
                self._copies.pop(backup_id, None)

    def _available(self, backup_id: str, verb: str, advice: str) -> BackupRecord:
        """The backup's record when it is available; else ``DesktopRefused`` saying why."""
        record = self.shelf.record(backup_id)
        if record is None or record.state is not BackupState.AVAILABLE:
            state = "unknown" if record is None else record.state.value
            raise DesktopRefused(f"The backup {backup_id} cannot be {verb} ({state}): {advice}.")
        return record

    def _set(self, instance: _Instance, state: DesktopState, detail: str) -> None:
        instance.state, instance.detail = state, detail
        self._cond.notify_all()

    def _describe(self, instance: _Instance) -> Desktop:
        if instance.port == 0 and instance.state is DesktopState.RUNNING:
            instance.port = _read_port(self.shelf.volume(instance.volume_id) / PORT_FILE)
        request = instance.launch
        return Desktop(
            id=instance.id,
            backend=self.name,
            name=request.name,
            state=instance.state,
            session_id=request.session_id,
            boot_volume_id=instance.volume_id,
            host="127.0.0.1" if instance.port else "",
            port=instance.port,
            launched_at=instance.launched_at,
            detail=instance.detail,
            tags={
                TAG_FARM: self.farm,
                TAG_SESSION: str(request.session_id),
                TAG_USER: request.user,
                TAG_PROFILE: request.profile.name,
            },
        )


def _ending(instance: _Instance) -> bool:
    return instance.state in (DesktopState.TERMINATING, DesktopState.TERMINATED)


def _read_port(path: Path) -> int:
    try:
        port = int(path.read_text().strip())
    except (OSError, ValueError):
        return 0
    return port if 0 < port < 65536 else 0


def _backup(record: BackupRecord) -> VolumeBackup:
    return VolumeBackup(
        id=record.id,
        boot_volume_id=record.volume_id,
        kind=record.kind,
        state=record.state,
        created_at=record.created_at,
        size_gb=round(record.size_bytes / 1024**3, 6),
        name=record.name,
    )
