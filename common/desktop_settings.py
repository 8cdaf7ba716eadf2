"""Artists' desktops in the cloud: the ``[[desktops]]`` profiles and the ``[sessions]`` table.

A desktop profile is what an artist may start: a machine (shape, OCPUs, memory, GPUs), the image
it boots, its boot volume, the display protocol a client connects with, the projects it may
open, its price and its snapshot policy. The ``[sessions]`` table says which cloud runs desktops
(the ``[cloud]`` backend unless set), how long a session may last, when an idle one ends, and how
long the one-time connection tokens of the broker live.

In the environment ``CLOUDBURST_DESKTOPS`` takes a JSON list of profiles.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.backup_settings import Weekday
from common.cloud_settings import nest_sub_tables

DisplayProtocol = Literal["pcoip", "dcv", "rdp"]
"""How a client draws the desktop: Teradici/HP Anyware PCoIP, NICE DCV, or RDP."""

#: Each display protocol's usual port.
PROTOCOL_PORTS: dict[str, int] = {"pcoip": 4172, "dcv": 8443, "rdp": 3389}


class SnapshotPolicy(BaseModel):
    """A profile's scheduled snapshots: one a day (a full one on ``full_day``, incremental on the
    others), keeping the newest of each of ``keep_daily`` days and the newest full of each of
    ``keep_weekly`` weeks (``daemon.backup.policy``, the rule the daemon's backups follow)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: str = Field(default="02:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """When the day's snapshot is taken (``HH:MM``, UTC)."""
    full_day: Weekday = "sunday"
    keep_daily: int = Field(default=7, ge=1, le=366)
    keep_weekly: int = Field(default=4, ge=0, le=520)


class DesktopProfile(BaseModel):
    """One ``[[desktops]]`` entry: a kind of desktop artists may start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.-]*$")
    description: str = Field(default="", max_length=500)
    shape: str = Field(default="VM.GPU.A10.1", min_length=1, max_length=100)
    ocpus: float | None = Field(default=None, gt=0)
    """OCPUs of a flex shape; None for a fixed shape."""
    memory_gb: float | None = Field(default=None, gt=0)
    """Memory of a flex shape in GB; None for a fixed shape."""
    gpus: int = Field(default=0, ge=0, le=16)
    image_id: str = Field(default="", max_length=255)
    """The image desktops boot (OCI: an image OCID with the display server installed)."""
    boot_volume_gb: int = Field(default=100, ge=50, le=32768)
    protocol: DisplayProtocol = "dcv"
    port: int | None = Field(default=None, ge=1, le=65535)
    """The display server's port; None: the protocol's usual one (``PROTOCOL_PORTS``)."""
    projects: list[str] = Field(default_factory=list)
    """The projects a session of this profile may open (and whose budget pays); empty: any
    project that is not confidential."""
    price_per_hour: float = Field(default=0.0, ge=0)
    """What a running desktop costs per hour (booked per user and show at the session's end)."""
    max_duration_h: float | None = Field(default=None, gt=0)
    """The longest session of this profile; None: ``[sessions] max_duration_h``."""
    idle_timeout_s: float | None = Field(default=None, gt=0)
    """An idle session ends after this long; None: ``[sessions] idle_timeout_s``."""
    snapshots: SnapshotPolicy = Field(default_factory=SnapshotPolicy)

    @property
    def display_port(self) -> int:
        return self.port if self.port is not None else PROTOCOL_PORTS[self.protocol]


class OciDesktopSettings(BaseModel):
    """The ``[sessions.oci]`` table: where OCI desktops run (the rest is ``[cloud.oci]``'s:
    compartment, credentials, region, endpoint)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subnet_id: str = ""
    """The subnet desktops' VNICs join (reached over VPN); empty: ``[cloud.oci] subnet_id``."""
    availability_domain: str = ""
    """Empty: the first of ``[cloud.oci] availability_domains``."""
    blockstorage_endpoint: str | None = None
    """Overrides the Block Storage service endpoint (a local endpoint in tests)."""
    archive_region: str = ""
    """Where ``DELETE /snapshots/{id}?archive=true`` copies a boot volume backup before the
    original is removed (OCI keeps backups in Object Storage); empty: archiving is refused."""
    volume_wait_s: float = Field(default=600.0, gt=0)
    """How long a restore waits for the boot volume made from a backup to become available."""
    agent_package: str = Field(default="cloudburst[agent]", min_length=1, max_length=500)
    """What a desktop ``pip install``s to run the desktop agent (``[cloud] pip_index_url`` and
    ``node_python`` say from where and with which Python)."""


class SimDesktopSettings(BaseModel):
    """The ``[sessions.simcloud]`` table: desktops as local processes, boot volumes as folders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    boot_delay_s: float = Field(default=1.0, ge=0)
    folder: str = ""
    """Where boot volumes, backups and archives are kept; empty:
    ``<data_dir>/simcloud-desktops``."""


class SessionSettings(BaseModel):
    """The ``[sessions]`` table: artists' desktop sessions and their snapshots."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["", "none", "oci", "simcloud"] = ""
    """Where desktops run; empty: the ``[cloud]`` backend's cloud (none without profiles)."""
    default_duration_h: float = Field(default=8.0, gt=0)
    max_duration_h: float = Field(default=12.0, gt=0, le=24 * 14)
    max_sessions_per_user: int = Field(default=2, ge=1, le=100)
    """Sessions one user may have that have not ended."""
    warn_before_end_s: float = Field(default=900.0, ge=0)
    """The desktop is told this long before its session's end."""
    end_grace_s: float = Field(default=120.0, ge=0)
    """Between the desktop being told to end and its instance being terminated."""
    idle_timeout_s: float = Field(default=3600.0, gt=0)
    """A session nobody has used this long ends (a profile may say otherwise)."""
    boot_timeout_s: float = Field(default=900.0, gt=0)
    """A desktop that has not reported this long after its launch has failed."""
    report_timeout_s: float = Field(default=180.0, gt=0)
    """A ready desktop silent this long has failed (its instance is terminated)."""
    report_interval_s: float = Field(default=10.0, gt=0, le=300)
    """How often a desktop reports to the daemon."""
    connection_token_ttl_s: float = Field(default=120.0, gt=0, le=3600)
    """A one-time connection token is refused after this long, used or not."""
    interval_s: float = Field(default=15.0, gt=0)
    """How often the daemon checks sessions (ends, warnings, idle, lost desktops)."""
    snapshot_interval_s: float = Field(default=600.0, gt=0)
    """How often the daemon looks for scheduled snapshots due (and retention)."""
    oci: OciDesktopSettings = Field(default_factory=OciDesktopSettings)
    simcloud: SimDesktopSettings = Field(default_factory=SimDesktopSettings)

    @model_validator(mode="before")
    @classmethod
    def _nested_keys(cls, value: Any) -> Any:
        """``CLOUDBURST_SESSIONS__SIMCLOUD__BOOT_DELAY_S``: a key of ``[sessions.simcloud]``."""
        return nest_sub_tables(value, ("oci", "simcloud"))

    @model_validator(mode="after")
    def _durations(self) -> SessionSettings:
        if self.default_duration_h > self.max_duration_h:
            raise ValueError(
                f"default_duration_h ({self.default_duration_h}) is longer than max_duration_h "
                f"({self.max_duration_h}): lower it or raise the maximum"
            )
        return self


def parse_profiles(value: object) -> object:
    """Accepts ``[[desktops]]`` as JSON text, as the environment gives it, and refuses two
    profiles of one name."""
    profiles = json.loads(value) if isinstance(value, str) else value
    if isinstance(profiles, list):
        names = [p.get("name") if isinstance(p, dict) else getattr(p, "name", None)
                 for p in profiles]  # fmt: skip
        twice = sorted({n for n in names if n is not None and names.count(n) > 1})
        if twice:
            raise ValueError(f"desktop profile names must be unique: {', '.join(twice)}")
    return profiles
