"""Settings of the object store, and the one function that opens the configured store.

``StoreSettings`` is meant to become the ``store`` table of the farm's configuration
(``[store]`` in ``config.toml``); until then a process builds it from a mapping
(``StoreSettings.model_validate``). Secrets are ``SecretStr``, so they never appear in a log or
an error message. Without explicit keys, the S3 back end uses botocore's usual chain (``AWS_*``
variables, ``~/.aws/credentials``, instance roles); the OCI back end uses instance principals
or an OCI config file.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from common.data.store import ObjectStore


class StoreSettings(BaseModel):
    """Where the farm's blobs live and how to reach them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["s3", "oci"] = "s3"
    bucket: Annotated[str, Field(min_length=3, max_length=255)] = "cloudburst"
    prefix: Annotated[str, Field(max_length=512)] = ""
    """Put before every key, so one bucket can serve several farms."""
    endpoint: str | None = None
    """S3: the endpoint URL (OCI: ``https://<ns>.compat.objectstorage.<region>.oraclecloud.com``,
    MinIO, SeaweedFS); OCI: a service endpoint override. AWS's own / the region's when None."""
    region: str | None = None
    access_key_id: str | None = None
    """S3: the access key (OCI: a customer secret key's access key)."""
    secret_access_key: SecretStr | None = None
    addressing_style: Literal["path", "virtual"] = "path"
    namespace: str | None = None
    """OCI: the tenancy's Object Storage namespace (asked of the service when None)."""
    oci_auth: Literal["instance_principal", "config_file"] = "instance_principal"
    oci_config_file: str | None = None
    oci_profile: str = "DEFAULT"
    max_connections: Annotated[int, Field(ge=1, le=512)] = 32


class StagingSettings(BaseModel):
    """The ``[staging]`` table: how the daemon sends jobs' files out and brings frames home."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auto: bool = True
    """Stage jobs with placement ``auto`` as soon as they are submitted (so they can go to
    cloud nodes at once when their due date needs it); false: only ``cloud`` jobs."""
    interval_s: Annotated[float, Field(gt=0)] = 2.0
    """How often the daemon looks for jobs to stage and frames to bring home."""
    workers: Annotated[int, Field(ge=1, le=64)] = 8
    """Files sent or fetched at once."""
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    """Tries at staging a job, or bringing a frame home, before it is given up."""


def open_store(settings: StoreSettings) -> ObjectStore:
    """The ``ObjectStore`` the settings describe; nothing is sent until it is used.

    Raises:
        ImportError: the back end's SDK is not installed (``cloudburst[data]`` or
            ``cloudburst[oci]``).
    """
    if settings.kind == "oci":
        from common.data.oci_native import OciStore, make_client

        client = make_client(
            auth=settings.oci_auth,
            config_file=settings.oci_config_file,
            profile=settings.oci_profile,
            region=settings.region,
            endpoint=settings.endpoint,
        )
        return OciStore(
            client, settings.bucket, namespace=settings.namespace, prefix=settings.prefix
        )
    from common.data.s3 import S3Store

    secret = settings.secret_access_key
    return S3Store(
        settings.bucket,
        prefix=settings.prefix,
        endpoint_url=settings.endpoint,
        region=settings.region,
        access_key_id=settings.access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        addressing_style=settings.addressing_style,
        max_connections=settings.max_connections,
    )
