"""The OCI Compute and Block Storage clients, and what OCI's error answers mean to a backend.

Authentication is the same as the object store's (``common.oci_auth.oci_client``):
instance principals on an OCI host, else an OCI config file and its API key. The SDK's own
retries are off: a launch must not be retried blindly (a 500 "Out of host capacity." is an
answer, not a glitch), so ``call`` retries only 429 (too many requests), a bounded number of
times with exponential backoff, and the caller decides about the rest.

The SDK is large: it is imported inside functions only.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Any

from common.cloud_settings import OciComputeSettings
from common.errors import ConfigError
from common.oci_auth import AUTH_INSTANCE_PRINCIPAL, oci_client
from daemon.backends.base import CloudError

logger = logging.getLogger(__name__)


class Refusal(enum.Enum):
    """The kinds of OCI error answers a backend acts on differently."""

    OUT_OF_CAPACITY = "out_of_capacity"
    LIMIT_EXCEEDED = "limit_exceeded"
    THROTTLED = "throttled"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    OTHER = "other"


def classify(exc: BaseException) -> Refusal | None:
    """What an SDK ``ServiceError`` stands for (by duck typing); None: not an OCI answer."""
    status = getattr(exc, "status", None)
    if not isinstance(status, int):
        return None
    code = str(getattr(exc, "code", "") or "")
    message = str(getattr(exc, "message", "") or "")
    if status == 500 and "out of host capacity" in message.lower():
        return Refusal.OUT_OF_CAPACITY
    if code in ("LimitExceeded", "QuotaExceeded"):
        return Refusal.LIMIT_EXCEEDED
    if status == 429:
        return Refusal.THROTTLED
    if status == 401:
        return Refusal.NOT_AUTHENTICATED
    if status == 404:
        return Refusal.NOT_FOUND
    if status == 409:
        return Refusal.CONFLICT
    return Refusal.OTHER


def describe_error(exc: BaseException) -> str:
    """``<status> <code>: <message>`` of an OCI answer, else the exception's text."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        code = getattr(exc, "code", "") or ""
        message = getattr(exc, "message", "") or ""
        return f"{status} {code}: {message}".strip()
    return f"{type(exc).__name__}: {exc}"


def auth_hint(settings: OciComputeSettings) -> str:
    """Which configuration to fix when OCI refuses our credentials."""
    if settings.auth == AUTH_INSTANCE_PRINCIPAL:
        return (
            "Check that this host is an OCI instance in a dynamic group that a policy allows to "
            'manage instances in the compartment ([cloud.oci] auth = "instance_principal").'
        )
    where = settings.config_file or "~/.oci/config"
    return (
        f"Check profile {settings.profile} of the OCI config file {where} ([cloud.oci] "
        "config_file, profile): user, tenancy, fingerprint and key_file must name an API key "
        "uploaded to that user, and the host clock must be right."
    )


def make_compute_client(settings: OciComputeSettings) -> Any:
    """An SDK ``ComputeClient`` with the configured authentication, region and endpoint.

    The SDK's own retries and circuit breaker are off: ``Caller`` retries what is worth it.

    Raises:
        ConfigError: the credentials cannot be had (``common.oci_auth.oci_client``).
    """
    return _client(lambda sdk: sdk.core.ComputeClient, settings, settings.endpoint)


def make_blockstorage_client(settings: OciComputeSettings, endpoint: str | None = None) -> Any:
    """An SDK ``BlockstorageClient`` (boot volumes and their backups), signed as Compute's is.

    Args:
        settings: the ``[cloud.oci]`` table (authentication, region).
        endpoint: overrides the Block Storage endpoint (``[sessions.oci] blockstorage_endpoint``).

    Raises:
        ConfigError: the credentials cannot be had (``common.oci_auth.oci_client``).
    """
    return _client(lambda sdk: sdk.core.BlockstorageClient, settings, endpoint)


def _client(
    client_class: Callable[[Any], Any], settings: OciComputeSettings, endpoint: str | None
) -> Any:
    import oci

    try:
        return oci_client(
            client_class,
            auth=settings.auth, config_file=settings.config_file, profile=settings.profile,
            region=settings.region, endpoint=endpoint,
            retry_strategy=oci.retry.NoneRetryStrategy(),
            circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
        )  # fmt: skip
    except ConfigError as exc:
        raise ConfigError(f"{exc.message} {auth_hint(settings)}") from exc


def close_client(client: Any) -> None:
    """Closes the HTTP session an SDK client keeps open (its connections to OCI)."""
    session = getattr(getattr(client, "base_client", None), "session", None)
    if session is not None:
        session.close()


def all_pages(
    call: Callable[..., Any], operation: str, method: Callable[..., Any], *args: Any
) -> list[Any]:
    """Every item of an OCI listing, page after page; ``call`` sends each request (``Caller.call``,
    or a backend's wrapper of it) as ``call(operation, method, *args, page=...)``."""
    items: list[Any] = []
    page: str | None = None
    while True:
        answer = call(operation, method, *args, **({"page": page} if page else {}))
        items += answer.data
        page = answer.next_page
        if not page:
            return items


class Caller:
    """Calls the SDK: retries 429 with bounded exponential backoff; turns failures into ours.

    Thread-safe (holds no state but its settings).
    """

    def __init__(
        self, settings: OciComputeSettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings
        self._sleep = sleep

    def call(self, operation: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``method(*args, **kwargs)``, again after a 429 up to ``throttle_retries`` times.

        Raises:
            ConfigError: OCI refused our credentials (401).
            CloudError: the request did not reach OCI (network, TLS).
            Exception: any other OCI error answer, as the SDK raised it (see ``classify``).
        """
        wait = self.settings.throttle_backoff_s
        attempt = 0
        while True:
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                refusal = classify(exc)
                if refusal is None:
                    if type(exc).__module__.startswith(("oci", "requests", "urllib3")) or (
                        isinstance(exc, OSError)
                    ):
                        raise CloudError(f"Cannot reach OCI ({operation}): {exc}") from exc
                    raise
                if refusal is Refusal.NOT_AUTHENTICATED:
                    raise ConfigError(
                        f"OCI refused our credentials for {operation} "
                        f"({describe_error(exc)}). {auth_hint(self.settings)}"
                    ) from exc
                if refusal is not Refusal.THROTTLED or attempt >= self.settings.throttle_retries:
                    raise
                attempt += 1
                logger.warning(
                    "OCI %s throttled (429); retry %d of %d in %.1f s",
                    operation,
                    attempt,
                    self.settings.throttle_retries,
                    wait,
                )
                self._sleep(wait)
                wait = min(wait * 2, self.settings.throttle_backoff_max_s)
