"""Where frames run: one ``RenderBackend`` protocol, backends picked by name.

``get_backend(name, settings, **options)`` builds ``none``, ``oci`` (OCI Compute through the
``oci`` SDK) or ``simcloud`` (real agent processes on this machine); ``register_backend`` adds
one; ``configured_backend(settings)`` builds the one the daemon's settings name and
``node_profile`` says what its nodes are like. What only some backends can do is a capability
protocol they declare (``KeepsEndedNodes``). ``cloud_init`` renders a node's user data,
``sweeper`` decides which nodes to terminate. Importing this package does not import the
``oci`` SDK.
"""

from __future__ import annotations

from common.cloud_settings import CloudSettings, OciComputeSettings, SimCloudSettings
from daemon.backends.base import (
    TAG_FARM,
    TAG_JOB_CLASS,
    TAG_NODE,
    TAG_POOL,
    Capacity,
    CloudError,
    CloudNode,
    KeepsEndedNodes,
    NodeProfile,
    NodeState,
    ProvisionProblem,
    ProvisionRequest,
    ProvisionResult,
    RenderBackend,
)
from daemon.backends.registry import (
    NullBackend,
    backend_names,
    configured_backend,
    get_backend,
    node_profile,
    register_backend,
)

__all__ = [
    "TAG_FARM",
    "TAG_JOB_CLASS",
    "TAG_NODE",
    "TAG_POOL",
    "Capacity",
    "CloudError",
    "CloudNode",
    "CloudSettings",
    "KeepsEndedNodes",
    "NodeProfile",
    "NodeState",
    "NullBackend",
    "OciComputeSettings",
    "ProvisionProblem",
    "ProvisionRequest",
    "ProvisionResult",
    "RenderBackend",
    "SimCloudSettings",
    "backend_names",
    "configured_backend",
    "get_backend",
    "node_profile",
    "register_backend",
]
