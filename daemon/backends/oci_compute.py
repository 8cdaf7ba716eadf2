"""``OciComputeBackend``: render nodes as OCI Compute instances, through the ``oci`` SDK.

Each node is one instance launched from the configured image into a private subnet (no public
IP), preemptible unless asked otherwise (OCI terminates a preempted instance), with a flex
shape's OCPUs and memory, and cloud-init user data that installs and starts the agent
(``cloud_init``). The instance and its VNIC carry our freeform tags (farm, pool, node, job
class); listing by the farm tag is how the backend finds its nodes, so nothing is orphaned and
other instances of the compartment are never touched. The boot volume goes with the instance.

What OCI answers and what ``provision`` does:

* 500 "Out of host capacity." -- the next configured availability domain; when none is left,
  a shortfall (``OUT_OF_CAPACITY``).
* 400 LimitExceeded (or QuotaExceeded) -- stops and reports it (``LIMIT_EXCEEDED``), and asks
  OCI for nothing for ``limit_hold_s``: a limit does not lift by asking again.
* 429 TooManyRequests -- retried with bounded exponential backoff (``oci_client.Caller``),
  then a shortfall (``THROTTLED``).
* 401 NotAuthenticated -- ``ConfigError`` naming the configuration to fix.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Collection
from typing import Any

from common.cloud_settings import CloudSettings
from common.errors import ConfigError
from daemon.backends.base import (
    TAG_FARM,
    TAG_JOB_CLASS,
    TAG_NODE,
    TAG_POOL,
    TAG_SESSION,
    Capacity,
    CloudError,
    CloudNode,
    NodeState,
    ProvisionProblem,
    ProvisionRequest,
    ProvisionResult,
    capacity_of,
)
from daemon.backends.cloud_init import AgentBootstrap, encode_user_data, render_user_data
from daemon.backends.oci_client import (
    Caller,
    Refusal,
    all_pages,
    classify,
    close_client,
    describe_error,
    make_compute_client,
)

logger = logging.getLogger(__name__)

#: OCI lifecycle states to ours (a stopped node of ours is on its way out: the sweeper ends it).
STATES = {
    "PROVISIONING": NodeState.PROVISIONING,
    "STARTING": NodeState.PROVISIONING,
    "MOVING": NodeState.PROVISIONING,
    "CREATING_IMAGE": NodeState.RUNNING,
    "RUNNING": NodeState.RUNNING,
    "STOPPING": NodeState.TERMINATING,
    "STOPPED": NodeState.TERMINATING,
    "TERMINATING": NodeState.TERMINATING,
    "TERMINATED": NodeState.TERMINATED,
}


def node_name(farm: str, pool: str) -> str:
    """A new node's name (instance display name and agent name): ``<farm>-<pool>-<8 hex>``."""
    safe = re.sub(r"[^A-Za-z0-9-]+", "-", f"{farm}-{pool}").strip("-")[:60]
    return f"{safe}-{uuid.uuid4().hex[:8]}"


class OciComputeBackend:
    """Nodes on OCI Compute. Thread-safe (the SDK client is; the hold is under a lock)."""

    name = "oci"

    def __init__(
        self,
        settings: CloudSettings,
        *,
        bootstrap: AgentBootstrap | None = None,
        client: Any = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Builds the backend; sends nothing to OCI yet.

        Args:
            settings: the ``[cloud]`` table; ``settings.oci`` is used.
            bootstrap: what nodes are told (daemon URL, store); needed to ``provision``.
            client: an SDK ``ComputeClient``; made from the settings when None.
            clock: seconds since the epoch (for estimates and the limit hold).
            sleep: waits between retries of throttled requests.

        Raises:
            ConfigError: no compartment, or the OCI credentials cannot be loaded.
        """
        self.cloud = settings
        self.settings = settings.oci
        if not self.settings.compartment_id:
            raise ConfigError("Set [cloud.oci] compartment_id: the compartment nodes run in.")
        self.bootstrap = bootstrap
        self._client = client if client is not None else make_compute_client(self.settings)
        self._caller = Caller(self.settings, sleep=sleep)
        self._clock = clock
        self._lock = threading.Lock()
        self._provisioning = threading.Lock()  # one provision at a time: max_nodes holds
        self._hold_until = 0.0
        self._hold_message = ""

    # --- RenderBackend ---------------------------------------------------------------------

    def capacity(self) -> Capacity:
        return capacity_of(self.describe(), self.settings.max_nodes)

    def describe(self) -> list[CloudNode]:
        now = self._clock()
        return [
            self._node(instance, now)
            for instance in self._list_ours()
            if instance.lifecycle_state != "TERMINATED"
        ]

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        if request.count == 0:
            return ProvisionResult(requested=0)
        bootstrap = self._launchable()
        with self._provisioning:
            return self._provision(request, bootstrap)

    def _provision(self, request: ProvisionRequest, bootstrap: AgentBootstrap) -> ProvisionResult:
        with self._lock:
            held_until, held_message = self._hold_until, self._hold_message
        if self._clock() < held_until:
            return ProvisionResult(
                requested=request.count,
                problem=ProvisionProblem.LIMIT_EXCEEDED,
                message=f"{held_message} Not asking OCI again for "
                f"{held_until - self._clock():.0f} s ([cloud.oci] limit_hold_s).",
            )
        count = min(request.count, self.capacity().available)
        launched: list[CloudNode] = []
        problem: ProvisionProblem | None = None
        message = ""
        if count < request.count:
            problem = ProvisionProblem.AT_MAX_NODES
            message = (
                f"{self.settings.max_nodes} nodes at most ([cloud.oci] max_nodes): "
                f"launching {count} of {request.count}."
            )
        domains = list(self.settings.availability_domains)
        full: list[str] = []
        for token in request.enrollment_tokens[:count]:
            node, stop = None, None
            while domains and node is None:
                try:
                    node = self._launch(domains[0], request, token, bootstrap)
                except Exception as exc:
                    refusal = classify(exc)
                    if refusal is Refusal.OUT_OF_CAPACITY:
                        logger.warning("OCI %s: %s", domains[0], describe_error(exc))
                        full.append(domains.pop(0))
                        continue
                    ours = isinstance(exc, ConfigError | CloudError)
                    if (refusal is None and not ours) or (ours and not launched):
                        raise  # a bug; or nothing launched: the caller hears it as is
                    stop = self._stopping(exc, refusal, request)
                    break
            if node is not None:
                launched.append(node)
                continue
            if stop is None:  # every domain is full
                stop = (
                    ProvisionProblem.OUT_OF_CAPACITY,
                    f"Every availability domain ({', '.join(full)}) is out of host capacity "
                    f"for {request.shape or self.settings.shape}. Try again later, another "
                    "shape, or more availability domains ([cloud.oci] shape, "
                    "availability_domains).",
                )
            problem, message = stop
            break
        if problem is not None and problem is not ProvisionProblem.AT_MAX_NODES:
            message = f"Launched {len(launched)} of {request.count} nodes. {message}"
        result = ProvisionResult(request.count, tuple(launched), problem, message)
        logger.info(
            "OCI provision pool=%s: %d of %d launched%s",
            request.pool,
            len(launched),
            request.count,
            f" ({message})" if problem else "",
        )
        return result

    def release(self, node_ids: Collection[str]) -> list[str]:
        wanted = set(node_ids)
        if not wanted:
            return []
        ours = {node.id: node for node in self.describe()}
        released: list[str] = []
        for node_id in sorted(wanted):
            node = ours.get(node_id)
            if node is None:
                logger.warning(
                    "not terminating %s: not a live node of farm %s", node_id, self.cloud.farm
                )
                continue
            if node.state is NodeState.TERMINATING:
                released.append(node_id)
                continue
            try:
                self._caller.call(
                    "TerminateInstance",
                    self._client.terminate_instance,
                    node_id,
                    preserve_boot_volume=False,
                )
            except ConfigError:
                raise
            except Exception as exc:
                refusal = classify(exc)
                if refusal is Refusal.NOT_FOUND:
                    continue  # gone already
                if refusal is not Refusal.CONFLICT:  # conflict: already terminating
                    logger.error("cannot terminate %s (%s)", node_id, describe_error(exc))
                    continue
            logger.info("terminating node %s (%s)", node.name, node_id)
            released.append(node_id)
        return released

    def close(self) -> None:
        close_client(self._client)

    # --- OCI -------------------------------------------------------------------------------

    def _launchable(self) -> AgentBootstrap:
        """The bootstrap, once everything a launch needs is configured.

        Raises:
            ConfigError: a setting a launch needs is missing.
        """
        missing = [
            key
            for key in ("availability_domains", "image_id", "subnet_id")
            if not getattr(self.settings, key)
        ]
        if missing:
            raise ConfigError(f"Set [cloud.oci] {', '.join(missing)} to launch render nodes.")
        if self.bootstrap is None:
            raise ConfigError(
                "The OCI backend was built without a node bootstrap: it cannot launch nodes."
            )
        return self.bootstrap

    def _launch(
        self, domain: str, request: ProvisionRequest, token: str, bootstrap: AgentBootstrap
    ) -> CloudNode:
        from oci.core.models import (
            CreateVnicDetails,
            InstanceOptions,
            InstanceSourceViaImageDetails,
            LaunchInstanceDetails,
            LaunchInstanceShapeConfigDetails,
            PreemptibleInstanceConfigDetails,
            TerminatePreemptionAction,
        )

        settings = self.settings
        shape = request.shape or settings.shape
        preemptible = settings.preemptible if request.preemptible is None else request.preemptible
        name = node_name(self.cloud.farm, request.pool)
        tags = {
            TAG_FARM: self.cloud.farm,
            TAG_POOL: request.pool,
            TAG_NODE: name,
            TAG_JOB_CLASS: request.job_class,
        }
        user_data = render_user_data(
            bootstrap, name=name, pool=request.pool, enrollment_token=token
        )
        shape_config = None
        if shape.endswith(".Flex") and (settings.ocpus or settings.memory_gb):
            shape_config = LaunchInstanceShapeConfigDetails(
                ocpus=settings.ocpus, memory_in_gbs=settings.memory_gb
            )
        preemption = None
        if preemptible:
            preemption = PreemptibleInstanceConfigDetails(
                preemption_action=TerminatePreemptionAction(preserve_boot_volume=False)
            )
        details = LaunchInstanceDetails(
            compartment_id=settings.compartment_id,
            availability_domain=domain,
            display_name=name,
            shape=shape,
            shape_config=shape_config,
            source_details=InstanceSourceViaImageDetails(
                image_id=settings.image_id, boot_volume_size_in_gbs=settings.boot_volume_gb
            ),
            create_vnic_details=CreateVnicDetails(
                subnet_id=settings.subnet_id,
                assign_public_ip=False,
                display_name=name,
                nsg_ids=list(settings.nsg_ids) or None,
                freeform_tags=tags,
            ),
            preemptible_instance_config=preemption,
            instance_options=InstanceOptions(are_legacy_imds_endpoints_disabled=True),
            metadata={"user_data": encode_user_data(user_data)},
            freeform_tags=tags,
        )
        answer = self._caller.call(
            "LaunchInstance",
            self._client.launch_instance,
            details,
            opc_retry_token=uuid.uuid4().hex,
        )
        node = self._node(answer.data, self._clock())
        logger.info(
            "launched node %s (%s) in %s, %s",
            name,
            node.id,
            domain,
            "preemptible" if preemptible else "on-demand",
        )
        return node

    def _stopping(
        self, exc: Exception, refusal: Refusal | None, request: ProvisionRequest
    ) -> tuple[ProvisionProblem, str]:
        """Why a provision stops at ``exc``; holds further launches on a limit."""
        text = describe_error(exc)
        if refusal is Refusal.LIMIT_EXCEEDED:
            message = (
                f"OCI refused more instances ({text}). Raise the tenancy's service limit or "
                f"quota for {request.shape or self.settings.shape} in the compartment, or lower "
                "[cloud.oci] max_nodes."
            )
            with self._lock:
                self._hold_until = self._clock() + self.settings.limit_hold_s
                self._hold_message = message
            logger.error("%s", message)
            return ProvisionProblem.LIMIT_EXCEEDED, message
        if refusal is Refusal.THROTTLED:
            return ProvisionProblem.THROTTLED, (
                f"OCI kept answering too many requests ({text}) after "
                f"{self.settings.throttle_retries} retries; try again later."
            )
        if refusal is Refusal.NOT_FOUND:
            return ProvisionProblem.ERROR, (
                f"OCI cannot find or will not let us use a resource of the launch ({text}). "
                "Check [cloud.oci] compartment_id, image_id, subnet_id and the policy."
            )
        logger.error("OCI launch failed: %s", text)
        if isinstance(exc, CloudError | ConfigError):
            return ProvisionProblem.ERROR, exc.message
        return ProvisionProblem.ERROR, f"OCI refused the launch ({text})."

    def _list_ours(self) -> list[Any]:
        """Every render node of the compartment tagged with this farm, all pages: not the
        artists' desktops, which share the compartment and the farm's tag (``TAG_SESSION``)."""
        listed = all_pages(
            self._caller.call, "ListInstances", self._client.list_instances,
            self.settings.compartment_id,
        )  # fmt: skip
        return [
            instance
            for instance in listed
            if (tags := instance.freeform_tags or {}).get(TAG_FARM) == self.cloud.farm
            and TAG_SESSION not in tags
        ]

    def _node(self, instance: Any, now: float) -> CloudNode:
        tags = dict(instance.freeform_tags or {})
        config = instance.shape_config
        preemptible = instance.preemptible_instance_config is not None
        price = (
            self.settings.preemptible_price_per_hour
            if preemptible
            else self.settings.on_demand_price_per_hour
        )
        launched = instance.time_created.timestamp() if instance.time_created else now
        return CloudNode(
            id=instance.id,
            backend=self.name,
            name=instance.display_name or tags.get(TAG_NODE, instance.id),
            state=STATES.get(instance.lifecycle_state or "", NodeState.PROVISIONING),
            pool=tags.get(TAG_POOL, ""),
            preemptible=preemptible,
            shape=instance.shape or "",
            ocpus=float(getattr(config, "ocpus", None) or 0.0),
            memory_gb=float(getattr(config, "memory_in_gbs", None) or 0.0),
            gpus=int(getattr(config, "gpus", None) or self.settings.gpus),
            price_per_hour=price,
            launched_at=launched,
            cost=round(price * max(0.0, now - launched) / 3600.0, 6),
            detail=str(instance.lifecycle_state or "").lower(),
            tags=tags,
        )
