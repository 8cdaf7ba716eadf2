"""Backends by name: ``get_backend("oci", settings, ...)`` and ``register_backend``.

The built-in backends are ``none`` (never bursts), ``local`` (the on-prem agents, described
only), ``oci`` and ``simcloud``; their modules are
imported only when asked for, so the daemon does not load the ``oci`` SDK unless it bursts to
OCI. A factory takes the ``CloudSettings`` and keyword options of its own (a simulated cloud's
daemon URL and store, the OCI backend's node bootstrap, clocks for tests).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Any

from common.cloud_settings import CloudSettings
from common.errors import ConfigError
from daemon.backends.base import (
    Capacity,
    CloudNode,
    ProvisionProblem,
    ProvisionRequest,
    ProvisionResult,
    RenderBackend,
)

BackendFactory = Callable[..., RenderBackend]
"""``factory(settings: CloudSettings, **options) -> RenderBackend``."""

_lock = threading.Lock()
_factories: dict[str, BackendFactory] = {}


class NullBackend:
    """The ``none`` backend: no nodes, ever."""

    name = "none"

    def __init__(self, settings: CloudSettings | None = None, **options: Any) -> None:
        del settings, options

    def capacity(self) -> Capacity:
        return Capacity(running=0, provisioning=0, max=0)

    def provision(self, request: ProvisionRequest) -> ProvisionResult:
        return ProvisionResult(
            requested=request.count,
            problem=ProvisionProblem.AT_MAX_NODES if request.count else None,
            message='Cloud bursting is off ([cloud] backend = "none").',
        )

    def release(self, node_ids: Collection[str]) -> list[str]:
        return []

    def describe(self) -> list[CloudNode]:
        return []

    def close(self) -> None:
        return None


def _oci(settings: CloudSettings, **options: Any) -> RenderBackend:
    from daemon.backends.oci_compute import OciComputeBackend

    return OciComputeBackend(settings, **options)


def _local(settings: CloudSettings, **options: Any) -> RenderBackend:
    from daemon.backends.local import LocalFarm

    return LocalFarm(**options)


def _simcloud(settings: CloudSettings, **options: Any) -> RenderBackend:
    from daemon.backends.simcloud import SimCloud

    return SimCloud(settings.simcloud, farm=settings.farm, **options)


def register_backend(name: str, factory: BackendFactory) -> None:
    """Makes ``factory`` the backend called ``name`` (replacing one of that name)."""
    with _lock:
        _factories[name] = factory


def backend_names() -> list[str]:
    """The names ``get_backend`` knows."""
    with _lock:
        return sorted(_factories)


def get_backend(name: str, settings: CloudSettings, **options: Any) -> RenderBackend:
    """A new backend called ``name``, built from ``settings`` and the factory's ``options``.

    Raises:
        ConfigError: no backend has that name, or its settings are incomplete.
    """
    with _lock:
        factory = _factories.get(name)
    if factory is None:
        raise ConfigError(
            f"Unknown cloud backend {name!r}. Set [cloud] backend to one of "
            f"{', '.join(backend_names())}."
        )
    return factory(settings, **options)


register_backend("none", NullBackend)
register_backend("local", _local)
register_backend("oci", _oci)
register_backend("simcloud", _simcloud)
