"""What the simulated cloud keeps of each desktop beside its boot volume, so that a daemon
started again finds the desktops the one before it left running.

``<volume>/desktop.json`` (0600, in the volume's 0700 folder) holds the instance's id, its
launch (less the secret, which is the volume's ``secret`` file) and, once booted, its agent's
process id with that process's start time. A desktop's process is taken for its agent only
when a process of that id runs, started at that time (a reused id is another process) and with
a command line naming the volume's own secret file: nothing else is ever adopted or signalled.

Start times are read from ``/proc`` (Linux, where the simulated cloud runs): without it no
process is adopted.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from dataclasses import fields
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.desktop_settings import DesktopProfile
from common.private_files import write_private
from daemon.backends.desktops import DesktopLaunch

RECORD_FILE = "desktop.json"
#: How often an adopted agent (not this process's child) is looked at while waited for.
POLL_S = 0.1


class LaunchRecord(BaseModel):
    """A ``DesktopLaunch`` without its secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_id: int
    name: str
    profile: DesktopProfile
    user: str
    project: str
    daemon_url: str
    restore_backup_id: str | None = None
    report_interval_s: float


class DesktopRecord(BaseModel):
    """One desktop as kept on its volume."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^simdesk-[0-9a-f]{12}$")
    volume_id: str = Field(pattern=r"^simvol-[0-9a-f]{12}$")
    launched_at: float
    launch: LaunchRecord
    pid: int | None = Field(default=None, gt=1)
    """The desktop agent's process once booted (None: asked for, not booted yet)."""
    started: str | None = None
    """That process's start time (``/proc/<pid>/stat``), so a reused id is never taken."""

    @classmethod
    def of(
        cls,
        desktop_id: str,
        volume_id: str,
        launched_at: float,
        launch: DesktopLaunch,
        *,
        pid: int | None = None,
        started: str | None = None,
    ) -> DesktopRecord:
        kept = {
            f.name: getattr(launch, f.name) for f in fields(DesktopLaunch) if f.name != "secret"
        }
        return cls(
            id=desktop_id,
            volume_id=volume_id,
            launched_at=launched_at,
            launch=LaunchRecord(**kept),
            pid=pid,
            started=started,
        )

    def request(self) -> DesktopLaunch:
        """The launch again; its secret stays in the volume's file, where the agent reads it."""
        return DesktopLaunch(**dict(self.launch), secret="")


def save(folder: Path, record: DesktopRecord) -> None:
    write_private(folder / RECORD_FILE, record.model_dump_json(indent=1))


def load(folder: Path) -> DesktopRecord | None:
    """The volume's record; None when it has none (a launch cut short) or it does not read."""
    try:
        record = DesktopRecord.model_validate_json((folder / RECORD_FILE).read_text("utf-8"))
    except (OSError, ValidationError):
        return None
    return record if record.volume_id == folder.name else None


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot); None when there is none, it has
    exited (a zombie), or this system has no ``/proc``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the name may hold spaces and parentheses
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


class AdoptedProcess:
    """A desktop agent a daemon before this one started: what ``SimDesktops`` does with its
    own ``subprocess.Popen`` (signal, wait), for a process that is not this one's child."""

    def __init__(self, pid: int, started: str) -> None:
        self.pid = pid
        self.started = started

    @classmethod
    def find(cls, record: DesktopRecord, secret_file: Path) -> AdoptedProcess | None:
        """The record's agent when it still runs; None when it is gone (or the id is now
        another process's)."""
        if record.pid is None or record.started is None:
            return None
        if process_start(record.pid) != record.started:
            return None
        command = _command_line(record.pid)
        if "cloud_agent.desktop" not in command or str(secret_file) not in command:
            return None
        return cls(record.pid, record.started)

    @property
    def returncode(self) -> int | None:
        """None while it runs (its exit status is its parent's to know: -1 once gone)."""
        return None if process_start(self.pid) == self.started else -1

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signum)

    def wait(self, timeout: float | None = None) -> int | None:
        """Waits until it is gone; ``subprocess.TimeoutExpired`` when ``timeout`` passes first.
        Its exit status is unknown here: None."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(POLL_S)
        return None
