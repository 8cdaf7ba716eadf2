"""The systemd units ``cloudburst install-service`` writes, as text (pure: no files, no users).

Both services run as a dedicated unprivileged user, restart on failure and are sandboxed:
nothing on the system is writable but their data folder (and, for an agent, the folders its
frames go to), no privilege can be gained, the kernel's settings and modules are out of reach.
The agent keeps what rendering needs: the GPUs (``/dev/nvidia*``, ``/dev/dri``) and reading
scenes under ``/home``. Neither sets ``MemoryDenyWriteExecute``: renderers compile code as they
run, and Python's foreign-function callbacks need such memory.

Every value written goes through ``word``, which refuses what a unit would read as more than a
value (a line break, a quote, ``$`` or ``%`` expansions), so no option can add a directive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

Role = Literal["daemon", "agent"]

ENV_DIR = PurePosixPath("/etc/cloudburst")
UNIT_DIR = PurePosixPath("/etc/systemd/system")
DATA_DIR = PurePosixPath("/var/lib/cloudburst")

#: Where an installation under a home folder lives: ``ProtectHome=yes`` would hide it.
_HOME_ROOTS = (PurePosixPath("/home"), PurePosixPath("/root"), PurePosixPath("/run/user"))

_DESCRIPTIONS = {"daemon": "Cloudburst scheduler daemon", "agent": "Cloudburst render agent"}

#: Sandboxing both services share.
_HARDENING = (
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectHostname=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
)

#: What each service adds. The daemon needs no device; the agent keeps every device (its
#: GPUs): ``PrivateDevices`` and ``ProtectClock`` (which allows only the clock device) would
#: hide them.
_ROLE_HARDENING = {
    "daemon": (
        "PrivateDevices=yes",
        "ProtectClock=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ),
    "agent": ("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",),
}


@dataclass(frozen=True)
class ServicePlan:
    """What one service's unit says."""

    role: Role
    command: tuple[str, ...]
    """This installation's ``cloudburst`` command: its absolute path (or Python's and
    ``-m common.cli``)."""
    user: str = "cloudburst"
    data_dir: PurePosixPath = DATA_DIR
    write_paths: tuple[str, ...] = field(default_factory=tuple)
    """Folders besides the data folder the service writes: the output roots (an agent's
    frames, or those the daemon brings home from the cloud) and a backup folder."""
    writes_frames: bool = False
    """Whether it writes frames into studio folders (an agent; a daemon that bursts)."""

    @property
    def unit_name(self) -> str:
        return f"cloudburst-{self.role}.service"

    @property
    def env_file(self) -> PurePosixPath:
        """Its settings (``CLOUDBURST_*=...`` lines), readable by root only."""
        return ENV_DIR / f"{self.role}.env"

    @property
    def strict(self) -> bool:
        """Whether the whole file system but the named folders is read-only.

        A service that writes frames to output folders no one named gets
        ``ProtectSystem=full`` (``/usr``, ``/boot``, ``/etc`` read-only): it must be able to
        write them wherever jobs say.
        """
        return not self.writes_frames or bool(self.write_paths)

    @property
    def protect_home(self) -> str:
        """``yes`` (no home folders) for the daemon, ``read-only`` for an agent (scenes may be
        there) and for an installation that lives under a home folder (it must run)."""
        under_home = any(PurePosixPath(self.command[0]).is_relative_to(r) for r in _HOME_ROOTS)
        return "read-only" if self.role == "agent" or under_home else "yes"


def unit_text(plan: ServicePlan) -> str:
    """The unit file of ``plan``."""
    data = str(plan.data_dir)
    start = " ".join(_quoted(word) for word in (*plan.command, plan.role))
    if plan.role == "daemon":
        start += f" --data-dir {_quoted(data)}"
    service = [
        "Type=exec",
        f"User={plan.user}",
        f"Group={plan.user}",
        f"Environment={_quoted(f'CLOUDBURST_DATA_DIR={data}')}",
        f"EnvironmentFile=-{plan.env_file}",
        f"ExecStart={start}",
        f"WorkingDirectory={_quoted(data)}",
        "Restart=on-failure",
        "RestartSec=5",
        # The agent gives its running task back (preempted) before it exits; the daemon
        # finishes its requests. Past this, systemd kills what is left.
        f"TimeoutStopSec={60 if plan.role == 'agent' else 30}",
        "KillMode=mixed",
        # Each agent holds a connection or two to the daemon: a farm of thousands needs more
        # descriptors than the default 1,024 (``server_connections``).
        *(["LimitNOFILE=65536"] if plan.role == "daemon" else []),
        "UMask=0027",
        f"ProtectSystem={'strict' if plan.strict else 'full'}",
        "ReadWritePaths=" + " ".join(_quoted(p) for p in (data, *plan.write_paths)),
        f"ProtectHome={plan.protect_home}",
        *_HARDENING,
        *_ROLE_HARDENING[plan.role],
    ]
    lines = [
        f"# Written by `cloudburst install-service {plan.role}`; run it again to rewrite it.",
        f"# Settings: {plan.env_file} (CLOUDBURST_* lines; the data folder is set here).",
        "[Unit]",
        f"Description={_DESCRIPTIONS[plan.role]}",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        *service,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def env_text(plan: ServicePlan, settings: dict[str, str]) -> str:
    """The environment file: one ``CLOUDBURST_<KEY>=value`` line per setting, quoted."""
    lines = [
        f"# Settings of {plan.unit_name}; `systemctl restart {plan.unit_name}` applies them.",
        "# Any Cloudburst setting as CLOUDBURST_<KEY>=value (README, Configuration);",
        "# not CLOUDBURST_DATA_DIR: the unit sets it to the folder it may write.",
    ]
    lines += [f"CLOUDBURST_{key.upper()}={_quoted(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


#: Characters a value in a unit or environment file may not hold: quotes, escapes, systemd's
#: ``$`` and ``%`` expansions, and control characters (a line break would start a directive).
_FORBIDDEN = frozenset("\"\\$%`'") | frozenset(chr(c) for c in (*range(32), 127))


def word_problem(value: str) -> str | None:
    """Why ``value`` cannot be written into a unit, or None when it can."""
    if not value:
        return "is empty"
    bad = sorted(set(value) & _FORBIDDEN)
    if bad:
        return "holds " + " ".join(repr(c) for c in bad) + ", which a unit file cannot hold"
    return None


def _quoted(value: str) -> str:
    """A value for a unit or environment file, double-quoted when it holds a space.

    Raises:
        ValueError: the value holds a character a unit reads as more than text.
    """
    problem = word_problem(value)
    if problem is not None:
        raise ValueError(f"{value!r} {problem}")
    return f'"{value}"' if " " in value else value
