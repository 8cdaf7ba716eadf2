"""``SimCloud``: a simulated cloud whose nodes are real agent processes on this machine.

A node asked for is billed at once and boots after ``boot_delay_s`` (a timer: ``provision``
returns at once): its agent (``python -m cloud_agent``) starts with the environment a cloud node
would have -- the daemon's URL, a one-time enrollment token, the cloud pool, no studio storage
access, the object store's settings, a data folder of its own and an empty configuration file,
so nothing of this machine's ``CLOUDBURST_*`` settings leaks in. It is billed per second (at
least ``minimum_billed_s``), at the preemptible or on-demand price, until its process is gone.

A preemption (``preempt`` or at random, ``preemption_rate_per_hour``) sends the agent SIGTERM
-- the agent stops leasing and reports its running task as preempted -- and SIGKILLs its
process group after ``preemption_grace_s``, as a reclaimed instance dies. ``release`` does the
same with ``stop_grace_s``. ``close`` stops every node and waits for every process: nothing is
left behind.

Threads: boot, kill and preemption timers, and one watcher per running node (which notes when
its process is gone); all state is under one condition, which ``wait_for`` waits on.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from common.cloud_settings import SimCloudSettings
from daemon.backends.base import (
    TAG_FARM,
    TAG_JOB_CLASS,
    TAG_NODE,
    TAG_POOL,
    Capacity,
    CloudError,
    CloudNode,
    NodeState,
    ProvisionProblem,
    ProvisionRequest,
    ProvisionResult,
)

logger = logging.getLogger(__name__)

ENV_PREFIX = "CLOUDBURST_"
#: What ``close`` waits, at most, for a process after SIGKILL.
_KILL_WAIT_S = 5.0


def billed_cost(start: float, end: float, price_per_hour: float, minimum_s: float) -> float:
    """What a node costs from ``start`` to ``end``: whole seconds, at least ``minimum_s``."""
    seconds = max(math.ceil(max(0.0, end - start) - 1e-9), minimum_s)
    return seconds * price_per_hour / 3600.0


def clean_environment() -> dict[str, str]:
    """This process's environment without its ``CLOUDBURST_*`` settings: what a simulated
    machine starts from, so nothing of this machine's configuration leaks into it."""
    return {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}


def start_machine(
    command: Sequence[str], env: Mapping[str, str], folder: Path, log: Path
) -> subprocess.Popen[bytes]:
    """Starts ``command`` as a simulated machine's program: in ``folder``, its output appended
    to ``log``, in a process group of its own, so that the whole "machine" can be killed.

    Raises:
        OSError: it could not start.
    """
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def default_agent_command() -> list[str]:
    """The agent a node runs: this interpreter's ``python -m cloud_agent``."""
    return [sys.executable, "-m", "cloud_agent"]


@dataclass
class _Node:
    """One simulated node; mutable, under the cloud's condition."""

    id: str
    name: str
    pool: str
    job_class: str
    preemptible: bool
    price_per_hour: float
    requested_at: float
    token: str = field(repr=False)
    folder: Path
    state: NodeState = NodeState.PROVISIONING
    detail: str = ""
    ended_at: float | None = None
    process: subprocess.Popen[bytes] | None = None
    timers: list[threading.Timer] = field(default_factory=list)
    watcher: threading.Thread | None = None


class SimCloud:
    """A cloud of local agent processes. Thread-safe."""

    name = "simcloud"

    def __init__(
        self,
        settings: SimCloudSettings,
        *,
        daemon_url: str,
        data_root: Path,
        farm: str = "cloudburst",
        store: Mapping[str, str | None] | None = None,
        extra_env: Mapping[str, str] | None = None,
        agent_command: Sequence[str] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        """Builds an empty cloud.

        Args:
            settings: boot delay, prices, preemption, the most nodes.
            daemon_url: the daemon the agents talk to.
            data_root: each node's folder is ``<data_root>/<node name>`` (data, log, config).
            farm: the farm's name, in each node's tags.
            store: the object store settings, passed as ``CLOUDBURST_STORE__<KEY>`` (``kind``,
                ``endpoint``, ``bucket``, ``prefix``, ``access_key_id``, ``secret_access_key``,
                ``region``...); None values are left out.
            extra_env: more variables for the agents (``CLOUDBURST_BLENDER``, ``PYTHONPATH``);
                they cannot override a node's own settings.
            agent_command: what a node runs (``default_agent_command()`` when None).
            clock: seconds since the epoch, for billing.
            rng: draws random preemptions.
        """
        self.settings = settings
        self.farm = farm
        self.daemon_url = daemon_url
        self.data_root = Path(data_root)
        self._store = dict(store or {})
        self._extra_env = dict(extra_env or {})
        self._command = list(agent_command or default_agent_command())
        self._clock = clock
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._nodes: dict[str, _Node] = {}
        self._closed = False

    # --- RenderBackend ---------------------------------------------------------------------

    def capacity(self) -> Capacity:
        with self._cond:
            return Capacity(
                running=sum(1 for n in self._nodes.values() if n.state is NodeState.RUNNING),
                provisioning=sum(
                    1 for n in self._nodes.values() if n.state is NodeState.PROVISIONING
                ),
                max=self.settings.max_nodes,
            )

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        preemptible = (
            self.settings.preemptible if request.preemptible is None else request.preemptible
        )
        price = (
            self.settings.preemptible_price_per_hour
            if preemptible
            else self.settings.on_demand_price_per_hour
        )
        with self._cond:
            if self._closed:
                raise CloudError("The simulated cloud is closed.")
            count = min(request.count, self.capacity().available)
            made: list[_Node] = []
            for token in request.enrollment_tokens[:count]:
                suffix = uuid.uuid4().hex[:8]
                name = f"{self.farm}-{request.pool}-{suffix}"
                node = _Node(
                    id=f"sim-{suffix}",
                    name=name,
                    pool=request.pool,
                    job_class=request.job_class,
                    preemptible=preemptible,
                    price_per_hour=price,
                    requested_at=self._clock(),
                    token=token,
                    folder=self.data_root / name,
                )
                self._nodes[node.id] = node
                self._later(node, self.settings.boot_delay_s, self._boot, node.id)
                made.append(node)
            snapshots = tuple(self._snapshot(node) for node in made)
        for node in made:
            logger.info(
                "simcloud: node %s (%s) asked for, %s",
                node.name,
                node.id,
                "preemptible" if preemptible else "on-demand",
            )
        if count < request.count:
            return ProvisionResult(
                request.count,
                snapshots,
                ProvisionProblem.AT_MAX_NODES,
                f"{self.settings.max_nodes} nodes at most ([cloud.simcloud] max_nodes): "
                f"started {count} of {request.count}.",
            )
        return ProvisionResult(request.count, snapshots)

    def release(self, node_ids: Collection[str]) -> list[str]:
        released = []
        with self._cond:
            for node_id in node_ids:
                node = self._nodes.get(node_id)
                if node is None or node.state is NodeState.TERMINATED:
                    continue
                self._stop(node, self.settings.stop_grace_s, "released")
                released.append(node_id)
        return released

    def describe(self) -> list[CloudNode]:
        return [n for n in self.nodes() if n.state is not NodeState.TERMINATED]

    def close(self) -> None:
        """Stops every node (SIGTERM, SIGKILL after ``stop_grace_s``) and waits for them."""
        with self._cond:
            self._closed = True
            nodes = list(self._nodes.values())
            for node in nodes:
                for timer in node.timers:
                    timer.cancel()
                node.timers.clear()
                self._stop(node, None, node.detail or "closed")
        deadline = time.monotonic() + self.settings.stop_grace_s
        for node in nodes:
            process = node.process
            if process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            kill_group(process)  # the agent, or what it left in its group
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_KILL_WAIT_S)
            if node.watcher is not None:
                node.watcher.join(timeout=_KILL_WAIT_S)

    # --- what a simulated cloud adds -------------------------------------------------------

    def preempt(self, node_id: str) -> bool:
        """Takes a node back as a cloud reclaims a preemptible instance.

        A node still booting is just gone. Returns False when the node is unknown or ended.
        """
        with self._cond:
            node = self._nodes.get(node_id)
            if node is None or node.state in (NodeState.TERMINATING, NodeState.TERMINATED):
                return False
            logger.info("simcloud: preempting node %s (%s)", node.name, node.id)
            self._stop(node, self.settings.preemption_grace_s, "preempted")
            return True

    def nodes(self) -> list[CloudNode]:
        """Every node ever asked for, terminated ones included, with its cost so far."""
        with self._cond:
            return [self._snapshot(node) for node in self._nodes.values()]

    def total_cost(self) -> float:
        """What every node has cost so far."""
        return sum(node.cost for node in self.nodes())

    def environment(self, node_id: str) -> dict[str, str]:
        """The environment the node's agent runs (or would run) with."""
        with self._cond:
            return self._environment(self._nodes[node_id])

    def pid(self, node_id: str) -> int | None:
        """The process id of the node's agent, once started."""
        with self._cond:
            process = self._nodes[node_id].process
            return None if process is None else process.pid

    def wait_for(
        self, node_id: str, states: Collection[NodeState], timeout: float
    ) -> CloudNode | None:
        """Waits until the node is in one of ``states``; None when ``timeout`` passes first."""
        with self._cond:
            node = self._nodes[node_id]
            if self._cond.wait_for(lambda: node.state in states, timeout=timeout):
                return self._snapshot(node)
            return None

    # --- inside (called with the condition held, unless said) ------------------------------

    def _environment(self, node: _Node) -> dict[str, str]:
        env = clean_environment()
        env.update(self._extra_env)
        env.update(
            {
                f"{ENV_PREFIX}STORE__{key.upper()}": str(value)
                for key, value in self._store.items()
                if value is not None
            }
        )
        env.update(
            {
                "CLOUDBURST_CONFIG": str(node.folder / "config.toml"),
                "CLOUDBURST_DAEMON_URL": self.daemon_url,
                "CLOUDBURST_ENROLLMENT_TOKEN": node.token,
                "CLOUDBURST_AGENT_POOL": node.pool,
                "CLOUDBURST_AGENT_NAME": node.name,
                "CLOUDBURST_STUDIO_ACCESS": "false",
                "CLOUDBURST_DATA_DIR": str(node.folder / "data"),
            }
        )
        return env

    def _boot(self, node_id: str) -> None:
        """Starts the node's agent. On a timer thread."""
        with self._cond:
            node = self._nodes[node_id]
            if self._closed or node.state is not NodeState.PROVISIONING:
                return
            try:
                (node.folder / "data").mkdir(parents=True, exist_ok=True)
                (node.folder / "config.toml").write_text(
                    "# A simulated cloud node: its settings come from the environment.\n"
                )
                node.process = start_machine(
                    self._command, self._environment(node), node.folder, node.folder / "agent.log"
                )
            except OSError as exc:
                logger.error("simcloud: node %s cannot start its agent: %s", node.name, exc)
                self._set(node, NodeState.TERMINATED, f"failed to start: {exc}")
                node.ended_at = self._clock()
                return
            self._set(node, NodeState.RUNNING, "")
            node.watcher = threading.Thread(
                target=self._watch,
                args=(node, node.process),
                name=f"simcloud-{node.id}",
                daemon=True,
            )
            node.watcher.start()
            rate = self.settings.preemption_rate_per_hour
            if node.preemptible and rate > 0:
                delay = self._rng.expovariate(rate / 3600.0)
                self._later(node, delay, self.preempt, node.id)
            logger.info("simcloud: node %s booted (pid %d)", node.name, node.process.pid)

    def _watch(self, node: _Node, process: subprocess.Popen[bytes]) -> None:
        """Notes when the node's agent is gone: billing ends. On the node's watcher thread."""
        code = process.wait()
        kill_group_of(process.pid)  # what it left in its group dies with the "machine"
        with self._cond:
            node.ended_at = self._clock()
            for timer in node.timers:
                timer.cancel()
            node.timers.clear()
            self._set(node, NodeState.TERMINATED, node.detail or f"agent exited ({code})")
        logger.info("simcloud: node %s ended (%s, exit %s)", node.name, node.detail, code)

    def _stop(self, node: _Node, grace: float | None, detail: str) -> None:
        """SIGTERM now and SIGKILL after ``grace`` (None: the caller kills); a booting node
        just ends."""
        if node.state is NodeState.PROVISIONING:
            for timer in node.timers:
                timer.cancel()
            node.timers.clear()
            node.ended_at = self._clock()
            self._set(node, NodeState.TERMINATED, detail)
            return
        if node.state is not NodeState.RUNNING or node.process is None:
            return
        self._set(node, NodeState.TERMINATING, detail)
        with contextlib.suppress(ProcessLookupError):
            node.process.send_signal(signal.SIGTERM)
        if grace is not None:
            self._later(node, grace, kill_group, node.process)

    def _set(self, node: _Node, state: NodeState, detail: str) -> None:
        node.state, node.detail = state, detail
        self._cond.notify_all()

    def _later(
        self, node: _Node, delay: float, function: Callable[..., object], *args: object
    ) -> None:
        timer = threading.Timer(delay, function, args)
        timer.daemon = True
        node.timers.append(timer)
        timer.start()

    def _snapshot(self, node: _Node) -> CloudNode:
        end = node.ended_at if node.ended_at is not None else self._clock()
        return CloudNode(
            id=node.id,
            backend=self.name,
            name=node.name,
            state=node.state,
            pool=node.pool,
            preemptible=node.preemptible,
            shape=self.settings.shape,
            ocpus=self.settings.ocpus,
            memory_gb=self.settings.memory_gb,
            gpus=self.settings.gpus,
            price_per_hour=node.price_per_hour,
            launched_at=node.requested_at,
            cost=billed_cost(
                node.requested_at, end, node.price_per_hour, self.settings.minimum_billed_s
            ),
            ended_at=node.ended_at,
            detail=node.detail,
            tags={
                TAG_FARM: self.farm,
                TAG_POOL: node.pool,
                TAG_NODE: node.name,
                TAG_JOB_CLASS: node.job_class,
            },
        )


class GroupLeader(Protocol):
    """A process leading its own group: a ``subprocess.Popen``, or one that is not this
    process's child but is known the same way (``sim_desktop_records.AdoptedProcess``)."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...


def kill_group(process: GroupLeader) -> None:
    """SIGKILLs the process's group (its "machine") while the process is not yet reaped (so
    its id cannot belong to another process)."""
    if process.returncode is None:
        kill_group_of(process.pid)


def kill_group_of(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
