"""Wire models of the agent protocol: registration, heartbeats, leases and task reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from common.models.base import (
    MAX_INTEGER,
    MAX_REPORTED,
    Attempt,
    FrameNumber,
    Name,
    Offset,
    RowId,
    WireModel,
)
from common.models.requirements import MAX_TAGS, Capabilities, Gpu, Label, OsName
from common.models.tasks import FailureClass


class AgentRegistration(WireModel):
    """What an agent says about itself when it starts."""

    name: Name
    hostname: Name
    dccs: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=lambda: ["blender"])
    cores: Annotated[int, Field(ge=1)] = 1
    memory_mb: Annotated[int, Field(ge=0)] = 0
    pool: Annotated[str, Field(max_length=80)] = "local"
    enrollment_token: Annotated[str, Field(max_length=200)] | None = None
    """The one-time token a TD minted for this agent; not needed to register again with the
    agent's own token, nor when a TD or admin registers it."""
    studio_access: bool = True
    """False: the node cannot reach studio storage (a cloud node); it takes only tasks of
    staged jobs, gets their files from the object store and sends its frames back there."""
    os: OsName | Literal[""] = ""
    gpus: Annotated[list[Gpu], Field(max_length=64)] = Field(default_factory=list)
    dcc_versions: dict[
        Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=40)]
    ] = Field(default_factory=dict)
    """The version of each DCC the agent found (``{"blender": "4.2.3"}``)."""
    tags: Annotated[list[Label], Field(max_length=MAX_TAGS)] = Field(default_factory=list)
    """Free-form tags from the agent's settings (a TD may change them on the daemon)."""

    @property
    def capabilities(self) -> Capabilities:
        """What the registration says the node has."""
        return Capabilities(
            dccs=self.dccs,
            dcc_versions=self.dcc_versions,
            cores=self.cores,
            memory_mb=self.memory_mb,
            os=self.os,
            gpus=self.gpus,
        )


AgentControl = Literal["enabled", "disabled", "drain"]
"""What a TD set on a node: ``enabled`` (it leases), ``disabled`` (it leases nothing new; what
it runs goes on) or ``drain`` (it finishes what it runs, then leases nothing)."""

AgentActivity = Literal["idle", "busy", "offline", "disabled", "draining", "drained"]
"""What a node does now, as people read it: a TD's ``disabled`` or ``drain`` first (a draining
node still runs a task; a drained one runs none), else ``offline``, ``busy`` or ``idle``."""


class AgentTask(WireModel):
    """A task a node holds now (leased or running)."""

    job_id: int
    job_name: str
    task_id: int
    frames: str
    """The task's frames as a frame spec (``1-10``)."""
    state: str
    progress: float = 0.0


class NodeLoad(WireModel):
    """A node's last reported load; None where its agent did not report it."""

    cpu_percent: float | None = None
    memory_percent: float | None = None
    gpu_percent: float | None = None
    reported_at: datetime


class AgentInfo(WireModel):
    """The daemon's answer to a registration, and how agents are listed."""

    id: str
    name: str
    hostname: str
    dccs: list[str]
    pool: str
    state: str
    last_seen: datetime
    heartbeat_interval_s: float
    lease_ttl_s: float
    studio_access: bool = True
    os: str = ""
    cores: int = 1
    memory_mb: int = 0
    gpus: list[Gpu] = Field(default_factory=list)
    dcc_versions: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    suspect: str = ""
    """Why the node stopped leasing (it failed too many tasks in a row); empty: it leases."""
    control: AgentControl = "enabled"
    control_by: str = ""
    """Who last enabled, disabled or drained the node (empty: nobody yet)."""
    activity: AgentActivity = "idle"
    tasks: list[AgentTask] = Field(default_factory=list)
    """What the node runs now."""
    load: NodeLoad | None = None
    token: str | None = None
    """The agent's own token: only in the answer to a first registration; keep it secret."""


class Heartbeat(WireModel):
    """Sent every few seconds: the tasks the agent is working on."""

    task_ids: Annotated[list[RowId], Field(max_length=MAX_REPORTED)] = Field(default_factory=list)
    cpu_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    """The node's load; optional, so older agents still beat."""
    memory_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    gpu_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    disk_free_mb: Annotated[int, Field(ge=0)] | None = None
    capabilities: Capabilities | None = None
    """What the node has now, sent when it changed since the agent registered."""


class HeartbeatReply(WireModel):
    """Tasks the agent must stop now (cancelled or reassigned), and the leases' new expiry."""

    cancel: list[int] = Field(default_factory=list)
    lease_expires_at: datetime | None = None


class TaskAssignment(WireModel):
    """A leased task with everything the agent needs to run it."""

    task_id: int
    job_id: int
    attempt: int
    frames: list[int]
    dcc: str
    renderer: str
    scene: str
    output: str
    output_format: str
    env: dict[str, str]
    timeout_s: int | None
    lease_expires_at: datetime
    stall_timeout_s: int | None = None
    """Kill the render after this long with no progress and no log line (a stall)."""


class TaskProgress(WireModel):
    """Progress of a running task; the first one moves the task from leased to running."""

    attempt: Attempt
    progress: Annotated[float, Field(ge=0.0, le=1.0)]
    frames_done: Annotated[list[FrameNumber], Field(max_length=MAX_REPORTED)] = Field(
        default_factory=list
    )


class TaskLogChunk(WireModel):
    """Text appended to a task's log. ``offset`` makes a resend harmless."""

    attempt: Attempt
    offset: Offset
    text: Annotated[str, Field(max_length=1_000_000)]


class OutputBlob(WireModel):
    """A frame a node away from studio storage wrote, stored in the object store by its hash."""

    path: Annotated[str, Field(min_length=1, max_length=4096)]
    """Where the frame belongs on studio storage (as the job's output path names it)."""
    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    """xxh3-128 of the frame's bytes."""
    size: Annotated[int, Field(ge=0, le=MAX_INTEGER)]


class TaskDone(WireModel):
    """The agent finished a task; ``outputs`` are the frame files it wrote."""

    attempt: Attempt
    outputs: Annotated[list[str], Field(max_length=MAX_REPORTED)]
    blobs: Annotated[list[OutputBlob], Field(max_length=MAX_REPORTED)] = Field(default_factory=list)
    """Frames written away from studio storage, uploaded to the object store; the daemon
    brings them home, and the job succeeds only once every one is home and verified."""
    lease_next: bool = Field(default=False, exclude_if=lambda asked: not asked)
    """Also lease the agent's next task, in the transaction that records this one done: the
    answer's ``next`` carries it (protocol 3). A resend of a report already applied gets the
    task that answer leased, if the agent has not started it yet. Left out of the wire while
    False, so that a daemon before protocol 3 (which refuses a field it does not know) takes
    the report of a newer agent."""


class CompletionReply(WireModel):
    """The answer to a finished task's report."""

    next: TaskAssignment | None = None
    """The agent's next task when the report asked for one (``lease_next``) and one was
    ready; None: lease as usual (``POST /agents/{id}/lease``), which also says how long to
    wait when there is no work."""


class TaskFailure(WireModel):
    """The agent's renderer failed (or timed out); ``error`` says why."""

    attempt: Attempt
    error: Annotated[str, Field(max_length=10_000)]
    preempted: bool = False
    """The node went away (e.g. cloud preemption): requeue without spending the retry budget."""
    error_class: FailureClass | None = None
    """What kind of failure the agent read from the runner's log and exit; None: unknown."""


AGENT_PROTOCOL_VERSION = 3
"""The agent protocol this daemon speaks: 2 adds one update per few seconds
(``POST /agents/{id}/updates``) to the heartbeat, progress and log calls of 1, which stay; 3
adds the next task in a completion's answer (``TaskDone.lease_next``), one call where a busy
node made two."""
POLL_INTERVAL_HEADER = "X-Poll-Interval"
"""The header of a lease's 204: how many seconds to wait before asking again."""
MAX_LOG_PIECES = 64
"""The most log pieces one task's update carries (normally one)."""


class TaskLogPiece(WireModel):
    """Log text of one attempt since the agent's last update, contiguous."""

    offset: Offset
    """Character offset of ``text`` in the attempt's log stream: a resend is harmless."""
    text: Annotated[str, Field(max_length=1_000_000)]


class TaskUpdate(WireModel):
    """What changed on one task since the agent's last update."""

    task_id: RowId
    attempt: Attempt
    progress: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """The newest progress, if any; the first one moves the task from leased to running."""
    frames_done: Annotated[list[FrameNumber], Field(max_length=MAX_REPORTED)] = Field(
        default_factory=list
    )
    log: Annotated[list[TaskLogPiece], Field(max_length=MAX_LOG_PIECES)] = Field(
        default_factory=list
    )
    """The attempt's log lines since the last update, pieces in stream order."""


class AgentUpdate(Heartbeat):
    """Sent every few seconds by a rendering agent: its heartbeat and what changed on each
    task (protocol 2)."""

    tasks: Annotated[list[TaskUpdate], Field(max_length=MAX_REPORTED)] = Field(default_factory=list)


class AgentUpdateReply(HeartbeatReply):
    """The heartbeat's answer, and when to send the next update."""

    update_interval_s: float


class AgentProtocol(WireModel):
    """The agent protocol this daemon speaks (``GET /agents/protocol``; a daemon without the
    route speaks protocol 1: heartbeat, progress and log calls)."""

    version: int
    update_interval_s: float
    """How often a rendering agent sends an update."""
    max_log_chars_per_update: int
    """The most log characters one update may carry, all its tasks' pieces together."""
    keep_alive: bool = False
    """Whether the agent keeps its connection open between calls; False: a connection per
    call (see ``[agents] keep_alive``)."""
    fast_url: str | None = None
    """Where to send updates, leases, completions and failures (``[agents] fast_bind``), on a
    kept connection whatever ``keep_alive`` says (its server watches idle connections at no
    cost); the daemon's main address while this one does not answer. None: the main
    address."""
