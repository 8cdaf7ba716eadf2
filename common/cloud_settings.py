"""The ``[cloud]`` table: which backend bursts, and the settings of each.

``CloudSettings`` is the ``cloud`` table of the farm's configuration (``[cloud]``,
``[cloud.oci]`` and ``[cloud.simcloud]`` in ``config.toml``); the backends live in
``daemon/backends``. In the environment a
key of a sub-table takes two more underscores (``CLOUDBURST_CLOUD__OCI__SHAPE``), lists are JSON
text (``CLOUDBURST_CLOUD__OCI__AVAILABILITY_DOMAINS='["AD-1","AD-2"]'``).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.daemon_address import daemon_url

#: The sub-tables of ``[cloud]``.
_TABLES = ("oci", "simcloud")


class OciComputeSettings(BaseModel):
    """The ``[cloud.oci]`` table: where and what render nodes OCI Compute launches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    compartment_id: str = ""
    """The compartment's OCID: nodes are launched, listed and swept there."""
    availability_domains: list[str] = Field(default_factory=list)
    """Tried in order; the next one when one is out of host capacity (``xxxx:US-ASHBURN-AD-1``)."""
    shape: str = "VM.Standard.E5.Flex"
    ocpus: float | None = Field(default=8.0, gt=0)
    """OCPUs of a flex shape; None for a fixed shape."""
    memory_gb: float | None = Field(default=64.0, gt=0)
    """Memory of a flex shape in GB; None for a fixed shape (or the flex shape's default)."""
    gpus: int = Field(default=0, ge=0)
    """GPUs the shape has (for matching GPU work; OCI's shape decides)."""
    image_id: str = ""
    """The image nodes boot (with Python 3.11 and systemd, e.g. Oracle Linux 9 + python3.11)."""
    boot_volume_gb: int | None = Field(default=None, ge=50)
    """Boot volume size; the image's when None."""
    subnet_id: str = ""
    """A private subnet reaching the studio through VPN or FastConnect; nodes get no public IP."""
    nsg_ids: list[str] = Field(default_factory=list)
    """Network security groups of the nodes' VNICs."""
    preemptible: bool = True
    """Launch preemptible nodes unless a request says otherwise."""
    preemptible_price_per_hour: float = Field(default=0.0, ge=0)
    """What one preemptible node costs per hour (for cost estimates and budgets)."""
    on_demand_price_per_hour: float = Field(default=0.0, ge=0)
    max_nodes: int = Field(default=10, ge=0)
    """The most nodes of ours at once (running and starting)."""
    auth: Literal["instance_principal", "config_file"] = "config_file"
    """``config_file`` (an API key, the on-prem daemon) or ``instance_principal`` (on OCI)."""
    config_file: str | None = None
    """The OCI config file (``~/.oci/config`` when None)."""
    profile: str = "DEFAULT"
    region: str | None = None
    """Overrides the config's (or the instance's) region."""
    endpoint: str | None = None
    """Overrides the Compute service endpoint (a local endpoint in tests)."""
    throttle_retries: int = Field(default=4, ge=0, le=10)
    """Retries of a request answered 429 (too many requests), with exponential backoff."""
    throttle_backoff_s: float = Field(default=1.0, gt=0)
    """The first wait after a 429; doubled each time, up to ``throttle_backoff_max_s``."""
    throttle_backoff_max_s: float = Field(default=30.0, gt=0)
    limit_hold_s: float = Field(default=900.0, ge=0)
    """After a LimitExceeded, ``provision`` asks OCI for nothing this long."""

    @field_validator("availability_domains", "nsg_ids", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        """Accepts JSON text, as environment variables give it."""
        return json.loads(value) if isinstance(value, str) else value


class SimCloudSettings(BaseModel):
    """The ``[cloud.simcloud]`` table: a simulated cloud of agent processes on this machine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    boot_delay_s: float = Field(default=5.0, ge=0)
    """Between a node being asked for and its agent starting."""
    shape: str = "Sim.Standard"
    ocpus: float = Field(default=4.0, gt=0)
    memory_gb: float = Field(default=16.0, gt=0)
    gpus: int = Field(default=0, ge=0)
    preemptible: bool = True
    preemptible_price_per_hour: float = Field(default=0.25, ge=0)
    on_demand_price_per_hour: float = Field(default=1.0, ge=0)
    minimum_billed_s: float = Field(default=60.0, ge=0)
    """A node is billed at least this long (OCI bills per second with one minute minimum)."""
    preemption_rate_per_hour: float = Field(default=0.0, ge=0)
    """Preemptions per preemptible node-hour, injected at random; 0: only ``preempt()``."""
    preemption_grace_s: float = Field(default=30.0, ge=0)
    """Between SIGTERM and SIGKILL when a node is preempted."""
    stop_grace_s: float = Field(default=30.0, ge=0)
    """Between SIGTERM and SIGKILL when a node is released or the cloud closes."""
    max_nodes: int = Field(default=4, ge=0)


class CloudSettings(BaseModel):
    """The ``[cloud]`` table: bursting to the cloud, and cleaning up after it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["none", "oci", "simcloud"] = "none"
    """Where cloud nodes come from; ``none``: the farm never bursts."""
    farm: str = Field(default="cloudburst", min_length=1, max_length=64, pattern=r"^[\w.-]+$")
    """This farm's name, tagged on every cloud resource; nodes of other farms are never touched."""
    pool: str = Field(default="cloud", min_length=1, max_length=80)
    """The pool cloud agents join."""
    node_daemon_url: str = ""
    """The daemon as cloud nodes reach it (over VPN or FastConnect); empty: ``daemon_url``."""
    agent_package: str = "cloudburst[agent,blender]"
    """What nodes ``pip install`` (a requirement or a wheel's URL on the studio's index)."""
    pip_index_url: str = ""
    """The package index nodes install from; empty: pip's default."""
    node_python: str = "python3.11"
    """The Python the node image provides (Blender's bpy needs 3.11)."""
    idle_timeout_s: float = Field(default=600.0, gt=0)
    """A node whose agent has had no task this long is terminated."""
    boot_grace_s: float = Field(default=900.0, gt=0)
    """A node may take this long after launch before its agent's first heartbeat."""
    heartbeat_timeout_s: float = Field(default=180.0, gt=0)
    """After boot, a node whose agent was silent this long is unhealthy and terminated."""
    unknown_grace_s: float = Field(default=300.0, gt=0)
    """A node tagged ours that the daemon does not know, older than this, is terminated."""
    interval_s: float = Field(default=10.0, gt=0)
    """How often the daemon routes the queue and sizes the cloud pool."""
    default_budget: float = Field(default=0.0, ge=0)
    """A show's cloud budget unless production set one (0: no cloud work until they do)."""
    budgets: dict[str, float] = Field(default_factory=dict)
    """Cloud budgets per show from the configuration; one set through the API wins."""
    oci: OciComputeSettings = Field(default_factory=OciComputeSettings)
    simcloud: SimCloudSettings = Field(default_factory=SimCloudSettings)

    @field_validator("node_daemon_url")
    @classmethod
    def _node_daemon_url(cls, value: str) -> str:
        return daemon_url(value) if value.strip() else ""

    @field_validator("budgets", mode="before")
    @classmethod
    def _json_budgets(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _nested_keys(cls, value: Any) -> Any:
        return nest_sub_tables(value, _TABLES)


def nest_sub_tables(value: Any, tables: tuple[str, ...]) -> Any:
    """Turns ``oci__shape`` keys (from ``CLOUDBURST_CLOUD__OCI__SHAPE``) into sub-tables."""
    if not isinstance(value, dict):
        return value
    nested = {
        k: v
        for k, v in value.items()
        if isinstance(k, str) and "__" in k and k.partition("__")[0] in tables
    }
    if not nested:
        return value
    out = {k: v for k, v in value.items() if k not in nested}
    for key, item in nested.items():
        table, _, sub = str(key).partition("__")
        current = out.get(table)
        if isinstance(current, BaseModel):
            current = current.model_dump()
        out[table] = {**(current if isinstance(current, dict) else {}), sub: item}
    return out
