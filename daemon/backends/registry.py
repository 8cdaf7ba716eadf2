"""Backends by name: ``get_backend("oci", settings, ...)`` and ``register_backend``.

The built-in backends are ``none`` (never bursts), ``local`` (the on-prem agents, described
only), ``oci`` and ``simcloud``; their modules are
imported only when asked for, so the daemon does not load the ``oci`` SDK unless it bursts to
OCI. A factory takes the ``CloudSettings`` and keyword options of its own (a simulated cloud's
daemon URL and store, the OCI backend's node bootstrap, clocks for tests).

``configured_backend(settings)`` builds the backend the daemon's settings name, with the options
each backend draws from them; ``node_profile(cloud)`` says what its nodes are like (size, most
nodes, boot time) from its settings table, so no caller needs to know which backend it has.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from common.cloud_settings import CloudSettings
from common.config import Settings
from common.errors import ConfigError
from daemon.backends.base import (
    Capacity,
    CloudNode,
    NodeProfile,
    ProvisionProblem,
    ProvisionRequest,
    ProvisionResult,
    RenderBackend,
)

BackendFactory = Callable[..., RenderBackend]
"""``factory(settings: CloudSettings, **options) -> RenderBackend``."""
OptionsFromSettings = Callable[[Settings], dict[str, Any]]
"""The factory's keyword options drawn from the daemon's settings."""
ProfileFromSettings = Callable[[CloudSettings], NodeProfile]

#: Seconds an OCI node takes to boot and start its agent, as the autoscaler plans it.
OCI_BOOT_S = 180.0


@dataclass(frozen=True)
class _Entry:
    factory: BackendFactory
    options: OptionsFromSettings
    profile: ProfileFromSettings


_lock = threading.Lock()
_entries: dict[str, _Entry] = {}


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


def _no_options(settings: Settings) -> dict[str, Any]:
    del settings
    return {}


def _oci_profile(cloud: CloudSettings) -> NodeProfile:
    """Nodes sized by ``[cloud.oci]``; also the profile of backends without a table of their own."""
    shape = cloud.oci
    return NodeProfile(
        max_nodes=shape.max_nodes, boot_s=OCI_BOOT_S, ocpus=shape.ocpus or 0,
        memory_gb=shape.memory_gb or 0, gpus=shape.gpus, shape=shape.shape,
    )  # fmt: skip


def _simcloud_profile(cloud: CloudSettings) -> NodeProfile:
    shape = cloud.simcloud
    return NodeProfile(
        max_nodes=shape.max_nodes, boot_s=shape.boot_delay_s, ocpus=shape.ocpus,
        memory_gb=shape.memory_gb, gpus=shape.gpus, shape=shape.shape,
    )  # fmt: skip


def _oci_options(settings: Settings) -> dict[str, Any]:
    """The node bootstrap: the daemon's URL and the object store nodes fetch from."""
    from daemon.backends.cloud_init import AgentBootstrap

    if settings.store is None:
        raise ConfigError("Bursting to OCI needs the [store] table (the object store).")
    bootstrap = AgentBootstrap.from_settings(
        settings.cloud, daemon_url=settings.daemon_url, store=settings.store
    )
    return {"bootstrap": bootstrap}


def _simcloud_options(settings: Settings) -> dict[str, Any]:
    """Where the simulated nodes' agents find the daemon and the store, and keep their files."""
    cloud = settings.cloud
    store = settings.store.model_dump(mode="json") if settings.store else {}
    if settings.store and settings.store.secret_access_key:
        store["secret_access_key"] = settings.store.secret_access_key.get_secret_value()
    return {
        "daemon_url": cloud.node_daemon_url or url_of(settings.bind),
        "data_root": settings.data_dir / "simcloud",
        "store": {k: None if v is None else str(v) for k, v in store.items()},
        "extra_env": {"CLOUDBURST_LOG_LEVEL": settings.log_level},
    }


def url_of(bind: str) -> str:
    """The daemon's URL on this machine, from where it listens (simulated nodes run here)."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def register_backend(
    name: str,
    factory: BackendFactory,
    *,
    options: OptionsFromSettings = _no_options,
    profile: ProfileFromSettings = _oci_profile,
) -> None:
    """Makes ``factory`` the backend called ``name`` (replacing one of that name).

    Args:
        name: what ``[cloud] backend`` says to pick it.
        factory: builds it from the ``CloudSettings`` and keyword options.
        options: the keyword options ``configured_backend`` draws from the daemon's settings.
        profile: what its nodes are like, from the ``CloudSettings``.
    """
    with _lock:
        _entries[name] = _Entry(factory, options, profile)


def backend_names() -> list[str]:
    """The names ``get_backend`` knows."""
    with _lock:
        return sorted(_entries)


def _entry(name: str) -> _Entry:
    with _lock:
        entry = _entries.get(name)
    if entry is None:
        raise ConfigError(
            f"Unknown cloud backend {name!r}. Set [cloud] backend to one of "
            f"{', '.join(backend_names())}."
        )
    return entry


def get_backend(name: str, settings: CloudSettings, **options: Any) -> RenderBackend:
    """A new backend called ``name``, built from ``settings`` and the factory's ``options``.

    Raises:
        ConfigError: no backend has that name, or its settings are incomplete.
    """
    return _entry(name).factory(settings, **options)


def configured_backend(settings: Settings) -> RenderBackend:
    """The backend ``[cloud] backend`` names, with the options it draws from ``settings``.

    Raises:
        ConfigError: no backend has that name, or its settings are incomplete.
    """
    entry = _entry(settings.cloud.backend)
    return entry.factory(settings.cloud, **entry.options(settings))


def node_profile(cloud: CloudSettings) -> NodeProfile:
    """What the nodes of the backend ``cloud.backend`` names are like.

    Raises:
        ConfigError: no backend has that name.
    """
    return _entry(cloud.backend).profile(cloud)


register_backend("none", NullBackend)
register_backend("local", _local)
register_backend("oci", _oci, options=_oci_options)
register_backend("simcloud", _simcloud, options=_simcloud_options, profile=_simcloud_profile)
