"""Signing in to OCI, for every SDK client Cloudburst makes (Object Storage, Compute).

On an OCI node the client signs with instance principals (no secret on the node); elsewhere
with an API key named by an OCI config file. The ``oci`` SDK is imported only when a client is
made: it is large, and only the ``oci`` extra installs it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from common.errors import ConfigError

AUTH_INSTANCE_PRINCIPAL = "instance_principal"
AUTH_CONFIG_FILE = "config_file"


def oci_client(
    client_class: Callable[[ModuleType], Any],
    *,
    auth: str,
    config_file: str | None = None,
    profile: str = "DEFAULT",
    region: str | None = None,
    endpoint: str | None = None,
    **options: Any,
) -> Any:
    """An SDK client signed as configured.

    Args:
        client_class: picks the client's class from the ``oci`` module
            (``lambda oci: oci.core.ComputeClient``).
        auth: ``instance_principal`` on OCI nodes, ``config_file`` with an API key elsewhere.
        config_file: the OCI config file (``~/.oci/config`` when None).
        profile: its profile.
        region: overrides the region of the config or the instance.
        endpoint: overrides the service endpoint (a local endpoint in tests).
        options: more keyword arguments of the client (retry and circuit-breaker strategies).

    Raises:
        ConfigError: the auth is unknown; instance principals are not available here (not an
            OCI instance); the OCI config file, its profile or the API key it names is missing
            or unreadable.
    """
    import oci

    cls = client_class(oci)
    if endpoint:
        options["service_endpoint"] = endpoint
    if auth == AUTH_INSTANCE_PRINCIPAL:
        try:
            signer = oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
        except Exception as exc:  # the metadata service is not there: not an OCI instance
            raise ConfigError(
                f"Cannot sign OCI requests with instance principals ({type(exc).__name__}: "
                f"{exc}): this host must be an OCI instance in a dynamic group, or use "
                '"config_file" auth with an API key.'
            ) from exc
        return cls({"region": region or signer.region}, signer=signer, **options)
    if auth == AUTH_CONFIG_FILE:
        path = config_file or oci.config.DEFAULT_LOCATION
        try:  # the SDK reads the file, then the key file it names
            config = oci.config.from_file(path, profile)
            if region:
                config["region"] = region
            return cls(config, **options)
        except oci.exceptions.ClientError as exc:
            raise ConfigError(
                f"Cannot sign OCI requests with profile {profile} of the OCI config file {path} "
                f"({type(exc).__name__}: {exc}). It needs user, fingerprint, key_file (a readable "
                "private API key), tenancy and region."
            ) from exc
    raise ConfigError(
        f"Unknown OCI auth {auth!r}: use {AUTH_INSTANCE_PRINCIPAL} or {AUTH_CONFIG_FILE}."
    )
