"""A local stand-in for OCI Compute's instance API, for the real ``oci`` SDK to talk to.

``ComputeEndpoint`` is a WSGI app, served by waitress on 127.0.0.1 (``serve``). Like the service
it refuses any request whose signature does not verify against a trusted API key (401
``NotAuthenticated``), then checks each request's shape and answers 400 or 404 with OCI's error
body when it is wrong: a launch must name the compartment, a known availability domain, the
image, the (private) subnet with no public IP, a flex shape's OCPUs and memory, a TERMINATE
preemption action that drops the boot volume when preemptible, our freeform tags on the instance
and its VNIC, and base64 ``#cloud-config`` user data. Instances live in memory.

With ``volumes`` (``oci_blockstorage_endpoint.BlockStorage``) the same server answers Block
Storage's boot volume and backup operations, and launches of desktops (tagged with a session)
are checked as a desktop's: the desktop tags (farm, session, user, profile) on the instance and
its VNIC, an image source with a boot volume size, or a restored boot volume of the same domain,
and ``#cloud-config`` that starts the desktop agent with its secret in a 0600 file.

Routes (base path ``/20160918``)::

    POST   /instances                  LaunchInstance (opc-retry-token)
    GET    /instances?compartmentId=   ListInstances (page, limit)
    GET    /instances/{id}             GetInstance
    DELETE /instances/{id}             TerminateInstance (preserveBootVolume)

The service's refusals come on demand: ``full_domains`` (500 InternalError "Out of host
capacity."), ``limit`` (400 LimitExceeded once that many instances are live) and ``fail`` (the
next answers of an operation, e.g. 429 TooManyRequests). Instances move on only when a test
calls ``advance`` (PROVISIONING to RUNNING, TERMINATING to TERMINATED). Every authenticated
request is in ``seen`` (its JSON body parsed); every refusal is in ``refused``, with why.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

import yaml
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.common.data.oci_endpoint import request_headers
from tests.common.data.oci_endpoint import serve as serve_endpoint
from tests.common.data.oci_signature import ApiKey, SignatureRefused, verify

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
BASE = "/20160918"
OUR_TAGS = ("cloudburst-farm", "cloudburst-pool", "cloudburst-node")
DESKTOP_TAGS = ("cloudburst-farm", "cloudburst-session", "cloudburst-user", "cloudburst-desktop")
LAUNCH_FIELDS = {
    "availabilityDomain",
    "compartmentId",
    "createVnicDetails",
    "displayName",
    "freeformTags",
    "definedTags",
    "metadata",
    "shape",
    "shapeConfig",
    "sourceDetails",
    "preemptibleInstanceConfig",
    "instanceOptions",
    "faultDomain",
}
VNIC_FIELDS = {"subnetId", "assignPublicIp", "displayName", "freeformTags", "nsgIds"}

_STATUS = {
    200: "200 OK",
    204: "204 No Content",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
}


class Refusal(Exception):
    """An answer with an OCI error body: ``{"code": ..., "message": ...}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Seen:
    """One request the endpoint accepted (signature and route)."""

    operation: str
    method: str
    target: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    key_id: str


class Volumes(Protocol):
    """What the compute endpoint asks of Block Storage (``BlockStorage``), under its lock."""

    def route(self, method: str, path: str) -> tuple[str, str] | None: ...

    def answer(
        self, operation: str, ident: str, query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, bytes, dict[str, str]]: ...

    def boot(self, source: dict[str, Any], domain: str, name: str, tags: dict[str, str]) -> str: ...

    def attach(self, instance_id: str, volume_id: str) -> None: ...

    def detach(self, instance_id: str, *, delete: bool) -> None: ...

    def advance(self) -> None: ...


class ComputeEndpoint:
    """OCI Compute's instance API for one compartment. A WSGI app; thread-safe."""

    def __init__(
        self,
        *,
        compartment_id: str,
        availability_domains: Iterable[str],
        image_id: str,
        subnet_id: str,
        page_size: int = 50,
        region: str = "us-ashburn-1",
        volumes: Volumes | None = None,
    ) -> None:
        self.compartment_id = compartment_id
        self.availability_domains = list(availability_domains)
        self.image_id = image_id
        self.subnet_id = subnet_id
        self.page_size = page_size
        self.region = region
        self.volumes = volumes
        self.url = ""
        """Where ``serve`` serves it."""
        self.keys: dict[str, rsa.RSAPublicKey] = {}
        self.seen: list[Seen] = []
        self.refused: list[str] = []
        self.instances: dict[str, dict[str, Any]] = {}
        """Instances by id, as the API shows them (camelCase JSON)."""
        self.user_data: dict[str, dict[str, Any]] = {}
        """Each launched instance's cloud-config, parsed."""
        self.full_domains: set[str] = set()
        self.limit: int | None = None
        self._faults: dict[str, list[Refusal]] = {}
        self._lock = threading.Lock()

    # --- what tests use --------------------------------------------------------------------

    def trust(self, key: ApiKey) -> None:
        """Accepts requests signed with ``key``."""
        self.keys[key.key_id] = key.public_key

    def fail(self, operation: str, status: int, code: str, message: str, times: int = 1) -> None:
        """Answers the next ``times`` requests of ``operation`` with this error."""
        with self._lock:
            self._faults.setdefault(operation, []).extend(
                Refusal(status, code, message) for _ in range(times)
            )

    def count(self, operation: str) -> int:
        """How many requests of ``operation`` the endpoint accepted (refused ones included,
        once past authentication)."""
        with self._lock:
            return sum(1 for seen in self.seen if seen.operation == operation)

    def bodies(self, operation: str) -> list[dict[str, Any]]:
        with self._lock:
            return [s.body or {} for s in self.seen if s.operation == operation]

    def add_instance(self, *, tags: dict[str, str], state: str = "RUNNING", name: str = "x") -> str:
        """An instance made by someone else (another farm, a person)."""
        instance_id = f"ocid1.instance.oc1..{uuid.uuid4().hex}"
        with self._lock:
            self.instances[instance_id] = _instance(
                instance_id,
                compartment=self.compartment_id,
                domain=self.availability_domains[0],
                name=name,
                shape="VM.Standard.E4.Flex",
                shape_config={"ocpus": 1.0, "memoryInGBs": 16.0, "gpus": 0},
                tags=tags,
                preemptible=None,
                state=state,
                region=self.region,
            )
        return instance_id

    def advance(self) -> None:
        """Instances move on: PROVISIONING to RUNNING, TERMINATING to TERMINATED."""
        moves = {"PROVISIONING": "RUNNING", "TERMINATING": "TERMINATED"}
        with self._lock:
            for instance in self.instances.values():
                state = instance["lifecycleState"]
                instance["lifecycleState"] = moves.get(state, state)
            if self.volumes is not None:
                self.volumes.advance()

    # --- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        headers_out = {"opc-request-id": uuid.uuid4().hex, "content-type": "application/json"}
        try:
            status, body, extra = self._answer(environ)
        except Refusal as refusal:
            with self._lock:
                self.refused.append(
                    f"{environ['REQUEST_METHOD']} {environ['REQUEST_URI']}: "
                    f"{refusal.status} {refusal.code}: {refusal.message}"
                )
            status, extra = refusal.status, {}
            body = json.dumps({"code": refusal.code, "message": refusal.message}).encode()
        headers_out.update(extra)
        headers_out["content-length"] = str(len(body))
        start_response(_STATUS[status], list(headers_out.items()))
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        method = environ["REQUEST_METHOD"]
        target = environ["REQUEST_URI"]
        headers = request_headers(environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            key_id = verify(
                method, target, headers, raw, self.keys,
                body_signed=method in ("POST", "PUT"), now=time.time(),
            )  # fmt: skip
        except SignatureRefused as refused:
            raise Refusal(
                401,
                "NotAuthenticated",
                "The required information to complete authentication was not provided or was "
                f"incorrect ({refused}).",
            ) from None
        path, _, query_text = target.partition("?")
        query = {k: v[0] for k, v in parse_qs(query_text, keep_blank_values=True).items()}
        routed = self.volumes.route(method, path) if self.volumes is not None else None
        operation, instance_id = routed or _route(method, path)
        body: dict[str, Any] | None = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise Refusal(400, "InvalidParameter", "The body is not JSON.") from None
        with self._lock:
            self.seen.append(Seen(operation, method, target, headers, body, key_id))
            faults = self._faults.get(operation)
            if faults:
                raise faults.pop(0)
            if routed is not None and self.volumes is not None:
                return self.volumes.answer(operation, instance_id, query, body or {})
            if operation == "LaunchInstance":
                return self._launch(body or {}, headers)
            if operation == "ListInstances":
                return self._list(query)
            if operation == "GetInstance":
                return 200, json.dumps(self._get(instance_id)).encode(), {}
            return self._terminate(instance_id, query)

    # --- operations (under the lock) -------------------------------------------------------

    def _launch(
        self, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        if not headers.get("opc-retry-token"):
            raise Refusal(400, "InvalidParameter", "A launch must carry an opc-retry-token.")
        unknown = set(body) - LAUNCH_FIELDS
        if unknown:
            raise Refusal(400, "InvalidParameter", f"Unexpected launch fields {sorted(unknown)}.")
        if body.get("compartmentId") != self.compartment_id:
            raise Refusal(
                404,
                "NotAuthorizedOrNotFound",
                "Authorization failed or requested "
                f"resource not found: compartment {body.get('compartmentId')}.",
            )
        domain = body.get("availabilityDomain")
        if domain not in self.availability_domains:
            raise Refusal(400, "InvalidParameter", f"Availability domain {domain} not found.")
        shape = body.get("shape") or ""
        shape_config = body.get("shapeConfig") or {}
        if shape.endswith(".Flex") and not (
            shape_config.get("ocpus", 0) > 0 and shape_config.get("memoryInGBs", 0) > 0
        ):
            raise Refusal(
                400, "InvalidParameter", f"{shape} needs shapeConfig ocpus and memoryInGBs."
            )
        tags = body.get("freeformTags") or {}
        desktop = "cloudburst-session" in tags
        source = body.get("sourceDetails") or {}
        _check_source(source, self.image_id, desktop=desktop, volumes=self.volumes is not None)
        vnic = body.get("createVnicDetails") or {}
        if set(vnic) - VNIC_FIELDS:
            raise Refusal(400, "InvalidParameter", f"Unexpected VNIC fields {sorted(vnic)}.")
        if vnic.get("subnetId") != self.subnet_id:
            raise Refusal(
                404, "NotAuthorizedOrNotFound", f"Subnet {vnic.get('subnetId')} not found."
            )
        if vnic.get("assignPublicIp") is not False:
            raise Refusal(
                400,
                "InvalidParameter",
                "The subnet is private: a VNIC in it cannot "
                "have a public IP (assignPublicIp must be false).",
            )
        required = DESKTOP_TAGS if desktop else OUR_TAGS
        missing = [t for t in required if not tags.get(t)]
        if missing or vnic.get("freeformTags") != tags:
            raise Refusal(
                400,
                "InvalidParameter",
                f"The instance and its VNIC must carry the "
                f"tags {list(required)} (missing {missing}).",
            )
        preemptible = body.get("preemptibleInstanceConfig")
        if preemptible is not None and preemptible.get("preemptionAction") != {
            "type": "TERMINATE",
            "preserveBootVolume": False,
        }:
            raise Refusal(400, "InvalidParameter", f"Bad preemption action {preemptible}.")
        config = _cloud_config((body.get("metadata") or {}).get("user_data"))
        if desktop:
            _check_desktop_config(config, tags["cloudburst-session"])
        if domain in self.full_domains:
            raise Refusal(500, "InternalError", "Out of host capacity.")
        live = sum(1 for i in self.instances.values() if i["lifecycleState"] != "TERMINATED")
        if self.limit is not None and live >= self.limit:
            raise Refusal(
                400,
                "LimitExceeded",
                f"You have reached your service limit of {self.limit} in this Availability "
                "Domain for this resource. Please try launching the instance in a different "
                "Availability Domain or Region, or try using a different shape.",
            )
        instance_id = f"ocid1.instance.oc1..{uuid.uuid4().hex}"
        if self.volumes is not None:
            volume_id = self.volumes.boot(source, domain, body.get("displayName") or "", tags)
            self.volumes.attach(instance_id, volume_id)
        instance = _instance(
            instance_id,
            compartment=self.compartment_id,
            domain=domain,
            name=body.get("displayName") or instance_id,
            shape=shape,
            shape_config={**shape_config, "gpus": 0},
            tags=tags,
            preemptible=preemptible,
            state="PROVISIONING",
            region=self.region,
        )
        self.instances[instance_id] = instance
        self.user_data[instance_id] = config
        return 200, json.dumps(instance).encode(), {"etag": uuid.uuid4().hex}

    def _list(self, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        allowed = {"compartmentId", "page", "limit", "lifecycleState", "availabilityDomain"}
        if set(query) - allowed or query.get("compartmentId") != self.compartment_id:
            raise Refusal(400, "InvalidParameter", f"ListInstances cannot take {query}.")
        rows = [i for i in self.instances.values() if i["compartmentId"] == self.compartment_id]
        start = int(query.get("page") or 0)
        page = rows[start : start + self.page_size]
        extra = {}
        if start + self.page_size < len(rows):
            extra["opc-next-page"] = str(start + self.page_size)
        return 200, json.dumps(page).encode(), extra

    def _get(self, instance_id: str) -> dict[str, Any]:
        instance = self.instances.get(instance_id)
        if instance is None:
            raise Refusal(404, "NotAuthorizedOrNotFound", f"Instance {instance_id} not found.")
        return instance

    def _terminate(
        self, instance_id: str, query: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        if set(query) - {"preserveBootVolume", "preserveDataVolumesCreatedAtLaunch"}:
            raise Refusal(400, "InvalidParameter", f"TerminateInstance cannot take {query}.")
        if query.get("preserveBootVolume") != "false":
            raise Refusal(
                400,
                "InvalidParameter",
                "Our nodes' boot volumes must go with them (preserveBootVolume=false).",
            )
        instance = self._get(instance_id)
        if instance["lifecycleState"] == "TERMINATED":
            raise Refusal(404, "NotAuthorizedOrNotFound", f"Instance {instance_id} not found.")
        if instance["lifecycleState"] == "TERMINATING":
            raise Refusal(409, "IncorrectState", "The instance is already terminating.")
        instance["lifecycleState"] = "TERMINATING"
        if self.volumes is not None:
            self.volumes.detach(instance_id, delete=True)
        return 204, b"", {}


def _route(method: str, path: str) -> tuple[str, str]:
    if not path.startswith(BASE + "/instances"):
        raise Refusal(404, "NotFound", f"No Compute API at {path}.")
    rest = path[len(BASE + "/instances") :].strip("/")
    if not rest:
        operation = {"POST": "LaunchInstance", "GET": "ListInstances"}.get(method)
    else:
        operation = {"GET": "GetInstance", "DELETE": "TerminateInstance"}.get(method)
    if operation is None:
        raise Refusal(405, "MethodNotAllowed", f"{method} is not allowed on {path}.")
    return operation, unquote(rest)


def _check_source(source: dict[str, Any], image_id: str, *, desktop: bool, volumes: bool) -> None:
    """Refuses a launch source that is not the image (with a boot volume size, for a desktop)
    or, where Block Storage is mounted, a boot volume (``BlockStorage.boot`` checks it)."""
    if volumes and source.get("sourceType") == "bootVolume":
        if set(source) != {"sourceType", "bootVolumeId"}:
            raise Refusal(400, "InvalidParameter", f"Unexpected boot volume source {source}.")
        return
    if source.get("sourceType") != "image" or source.get("imageId") != image_id:
        raise Refusal(404, "NotAuthorizedOrNotFound", f"Image {source.get('imageId')} not found.")
    size = source.get("bootVolumeSizeInGBs")
    if desktop and not (isinstance(size, int) and 50 <= size <= 32768):
        raise Refusal(
            400, "InvalidParameter", f"bootVolumeSizeInGBs must be 50 to 32768, not {size}."
        )


def _check_desktop_config(config: dict[str, Any], session: str) -> None:
    """Refuses a desktop's cloud-config unless it starts the desktop agent of its session with
    the secret in a 0600 file (and nowhere on the command line)."""
    files = {f.get("path"): f for f in config.get("write_files") or [] if isinstance(f, dict)}
    units = [f["content"] for f in files.values() if "cloud_agent.desktop" in f.get("content", "")]
    if len(units) != 1:
        raise Refusal(400, "InvalidParameter", "user_data does not start the desktop agent.")
    start = next(line for line in units[0].splitlines() if line.startswith("ExecStart="))
    words = start.split()

    def option(name: str) -> str:
        return words[words.index(name) + 1] if name in words[:-1] else ""

    secret = files.get(option("--secret-file")) or {}
    if (
        option("--session") != session
        or secret.get("permissions") != "0600"
        or not secret.get("content")
        or secret["content"] in start
    ):
        raise Refusal(
            400, "InvalidParameter", "The desktop agent must run for its session with the "
            "secret in a 0600 file.",
        )  # fmt: skip


def _cloud_config(user_data: Any) -> dict[str, Any]:
    """The parsed cloud-config of base64 user data; refuses anything else."""
    if not isinstance(user_data, str):
        raise Refusal(400, "InvalidParameter", "metadata.user_data is missing.")
    try:
        text = base64.b64decode(user_data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Refusal(400, "InvalidParameter", "metadata.user_data is not base64.") from None
    if not text.startswith("#cloud-config\n"):
        raise Refusal(400, "InvalidParameter", "user_data is not a #cloud-config document.")
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Refusal(400, "InvalidParameter", f"user_data is not YAML: {exc}") from None
    if not isinstance(config, dict):
        raise Refusal(400, "InvalidParameter", "user_data is not a cloud-config mapping.")
    return config


def _instance(
    instance_id: str,
    *,
    compartment: str,
    domain: str,
    name: str,
    shape: str,
    shape_config: dict[str, Any],
    tags: dict[str, str],
    preemptible: dict[str, Any] | None,
    state: str,
    region: str,
) -> dict[str, Any]:
    return {
        "id": instance_id,
        "compartmentId": compartment,
        "availabilityDomain": domain,
        "displayName": name,
        "shape": shape,
        "shapeConfig": shape_config,
        "freeformTags": dict(tags),
        "preemptibleInstanceConfig": preemptible,
        "lifecycleState": state,
        "region": region,
        "timeCreated": datetime.now(UTC).isoformat(),
    }


def serve(app: ComputeEndpoint) -> contextlib.AbstractContextManager[str]:
    """Serves ``app`` on a free 127.0.0.1 port in a thread (as the Object Storage stand-in is)."""
    return serve_endpoint(app, threads=4)
