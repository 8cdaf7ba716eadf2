"""OCI's request signatures, as the service checks them, and the API key a test signs with.

OCI signs each request with the HTTP Signatures draft (draft-cavage, ``version="1"``)::

    Authorization: Signature version="1",keyId="<tenancy>/<user>/<fingerprint>",
        algorithm="rsa-sha256",headers="date (request-target) host ...",signature="<base64>"

The signature is RSA PKCS#1 v1.5 over SHA-256 of the signing string: one ``name: value`` line
per listed header, ``(request-target)`` being ``<method> <path>?<query>`` as sent. Every request
signs ``date``, ``(request-target)`` and ``host``; a PUT or POST also signs ``content-length``,
``content-type`` and ``x-content-sha256`` (the body's SHA-256), except object and part uploads,
whose bodies Object Storage lets go unsigned (the SDK sends them so).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GENERIC_HEADERS = ("date", "(request-target)", "host")
BODY_HEADERS = ("content-length", "content-type", "x-content-sha256")
#: How far a request's ``date`` may be from the endpoint's clock (OCI allows five minutes).
MAX_SKEW_S = 300.0

_PARAM = re.compile(r'\s*(\w+)="([^"]*)"\s*(?:,|$)')


class SignatureRefused(Exception):
    """The request does not prove that a trusted key signed it as it arrived."""


@dataclass(frozen=True)
class ApiKey:
    """A user's API signing key pair, as OCI identifies it: tenancy, user and fingerprint."""

    tenancy: str
    user: str
    private_pem: bytes
    public_key: rsa.RSAPublicKey
    fingerprint: str

    @property
    def key_id(self) -> str:
        """The ``keyId`` a request signed with this key names."""
        return f"{self.tenancy}/{self.user}/{self.fingerprint}"

    def write(self, path: Path) -> Path:
        """Writes the private key (PEM, readable by its owner only), as ``key_file`` expects."""
        path.write_bytes(self.private_pem)
        path.chmod(0o600)
        return path


def new_api_key(tenancy: str, user: str) -> ApiKey:
    """A fresh 2048-bit RSA key pair, with the fingerprint OCI shows for its public key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key()
    return ApiKey(tenancy, user, pem, public, fingerprint_of(public))


def fingerprint_of(public: rsa.RSAPublicKey) -> str:
    """The key's fingerprint: MD5 of its DER public key, as colon-separated hex pairs."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.md5(der, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def body_sha256(body: bytes) -> str:
    """The ``x-content-sha256`` of a body."""
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def parse_authorization(value: str) -> dict[str, str]:
    """The parameters of a ``Signature`` authorization header.

    Raises:
        SignatureRefused: it is not a well-formed OCI signature header.
    """
    scheme, _, rest = value.partition(" ")
    if scheme != "Signature":
        raise SignatureRefused(f"authorization scheme {scheme!r} is not Signature")
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None:
            raise SignatureRefused("malformed Signature parameters")
        params[match.group(1)] = match.group(2)
        position = match.end()
    for name in ("version", "keyId", "algorithm", "headers", "signature"):
        if name not in params:
            raise SignatureRefused(f"the Signature has no {name}")
    if params["version"] != "1" or params["algorithm"] != "rsa-sha256":
        raise SignatureRefused("only version 1 rsa-sha256 signatures are accepted")
    return params


def signing_string(signed: list[str], method: str, target: str, headers: Mapping[str, str]) -> str:
    """The text a signature covers: one ``name: value`` line per signed header.

    Args:
        signed: the header names, lower case, in the order the signature lists them.
        method: the HTTP method.
        target: the path and query, exactly as sent.
        headers: the request's headers, lower-case names.
    """
    lines = []
    for name in signed:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            lines.append(f"{name}: {headers[name]}")
    return "\n".join(lines)


def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, rsa.RSAPublicKey],
    *,
    body_signed: bool,
    now: float,
) -> str:
    """Checks a request's signature as OCI does; returns the ``keyId`` that signed it.

    Args:
        method: the HTTP method.
        target: the path and query, exactly as sent.
        headers: the request's headers, lower-case names.
        body: the request's body.
        keys: the trusted public keys by ``keyId``.
        body_signed: whether this operation must sign its body headers.
        now: the endpoint's clock (seconds since the epoch).

    Raises:
        SignatureRefused: no signature, a malformed one, a header it should cover and does not,
            an unknown key, a stale date, a body that is not the signed one, or a signature
            that does not verify.
    """
    if "authorization" not in headers:
        raise SignatureRefused("no Authorization header")
    params = parse_authorization(headers["authorization"])
    signed = params["headers"].lower().split()
    required = GENERIC_HEADERS + (BODY_HEADERS if body_signed else ())
    left_out = [name for name in required if name not in signed]
    if left_out:
        raise SignatureRefused(f"the signature does not cover {', '.join(left_out)}")
    absent = [name for name in signed if name != "(request-target)" and name not in headers]
    if absent:
        raise SignatureRefused(f"signed header(s) missing from the request: {', '.join(absent)}")
    public = keys.get(params["keyId"])
    if public is None:
        raise SignatureRefused(f"unknown keyId {params['keyId']!r}")
    try:
        sent = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
    except (TypeError, ValueError):
        raise SignatureRefused(f"unreadable date {headers['date']!r}") from None
    if abs(sent - now) > MAX_SKEW_S:
        raise SignatureRefused(f"date {headers['date']!r} is too far from now")
    if "x-content-sha256" in signed and headers["x-content-sha256"] != body_sha256(body):
        raise SignatureRefused("x-content-sha256 is not the body's")
    if "content-length" in signed and headers["content-length"] != str(len(body)):
        raise SignatureRefused("content-length is not the body's")
    text = signing_string(signed, method, target, headers).encode()
    try:
        signature = base64.b64decode(params["signature"], validate=True)
        public.verify(signature, text, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise SignatureRefused("the signature does not verify") from None
    return params["keyId"]


def oci_config(
    folder: Path, key: ApiKey, *, fingerprint: str | None = None, region: str = "us-ashburn-1"
) -> Path:
    """An OCI config file whose DEFAULT profile signs with ``key`` (another ``fingerprint``
    names a key the service does not know)."""
    folder.mkdir(parents=True, exist_ok=True)
    key_file = key.write(folder / "api_key.pem")
    values = {
        "user": key.user,
        "fingerprint": fingerprint or key.fingerprint,
        "key_file": str(key_file),
        "tenancy": key.tenancy,
        "region": region,
    }
    path = folder / "config"
    path.write_text("[DEFAULT]\n" + "".join(f"{k}={v}\n" for k, v in values.items()))
    return path
