"""Where a webhook may call: the rule that keeps it from being a door into the studio.

A webhook makes the daemon send a request to an address someone typed, from inside the
studio's network. So its address must be ``http`` or ``https`` with no credentials in it, and
every address its host name resolves to must be on the public internet, unless IT named the
host or its network in ``[webhooks] internal_hosts`` (a chat server on the LAN). Link-local
addresses (``169.254.0.0/16``, ``fe80::/10``, where cloud metadata services answer), cloud
metadata addresses, ``0.0.0.0`` and multicast are never called. The rule is checked when a
webhook is added and again before each delivery, and the request goes to the address that
was checked (``sender.py``), so a name that resolves elsewhere later gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from common.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

#: Metadata services that do not live on link-local addresses (AWS over IPv6, Alibaba).
METADATA = frozenset(ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200"))


class WebhookUrlRefused(InvalidInput):
    """A webhook's address is not one the daemon may call."""

    code = "webhook_url_refused"


@dataclass(frozen=True)
class Target:
    """A webhook's address, taken apart."""

    url: str
    scheme: str
    host: str
    """The host name (or address) as written, lower case, without brackets."""
    port: int
    path: str
    """The path and query sent in the request line."""

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    """The parts of a webhook address.

    Raises:
        WebhookUrlRefused: not an ``http(s)://host/...`` address, or one with credentials.
    """
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookUrlRefused(
            "A webhook address may not hold spaces or control characters; percent-encode them."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused(f"{url!r} is not a web address; give one such as "
                                "https://hooks.example.com/cloudburst.") from None  # fmt: skip
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlRefused(
            f"A webhook address starts with https:// (or http://), not {parts.scheme or 'nothing'}"
            "; give the receiver's https address."
        )
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused(
            "A webhook address may not hold a user name or password; put the receiver's token "
            "in its path or query, or check the X-Cloudburst-Signature header instead."
        )
    if not parts.hostname:
        raise WebhookUrlRefused(
            f"{url!r} names no host; give one such as https://hooks.example.com/x."
        )
    try:  # the name as DNS and the Host header carry it (IDNA for non-ASCII names)
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise WebhookUrlRefused(f"{parts.hostname!r} is not a valid host name.") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        url=url, scheme=parts.scheme, host=host,
        port=port or (443 if parts.scheme == "https" else 80), path=path,
    )  # fmt: skip


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system's resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class InternalHosts:
    """``[webhooks] internal_hosts``: names and networks IT lets webhooks call inside."""

    def __init__(self, entries: Sequence[str]) -> None:
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                self.names.add(entry.strip().lower().rstrip("."))

    def allows(self, host: str, address: IpAddress) -> bool:
        return host.rstrip(".") in self.names or any(address in net for net in self.networks)


def check_addresses(target: Target, addresses: Sequence[str], internal: InternalHosts) -> str:
    """Checks every address the host resolved to; returns the one to call.

    Raises:
        WebhookUrlRefused: an address is one no webhook may call, or an internal one IT has
            not allowed.
    """
    if not addresses:
        raise WebhookUrlRefused(f"{target.host} resolves to no address; check the webhook's host.")
    for text in addresses:
        address = _address(text)
        if address.is_link_local or address in METADATA:
            raise WebhookUrlRefused(
                f"{target.host} is {address}, a link-local or cloud metadata address; webhooks "
                "never call those. Give the receiver's public or LAN address."
            )
        if address.is_unspecified or address.is_multicast:
            raise WebhookUrlRefused(f"{target.host} is {address}, which no webhook may call.")
        if not address.is_global and not internal.allows(target.host, address):
            raise WebhookUrlRefused(
                f"{target.host} is {address}, inside the studio's network; webhooks call public "
                "addresses only unless IT lists the host or its network in [webhooks] "
                "internal_hosts. Ask IT, or use the receiver's public address."
            )
    return addresses[0]


def resolve(target: Target, internal: InternalHosts, resolver: Resolver = system_resolver) -> str:
    """Resolves and checks the target's host; returns the address to call.

    Raises:
        WebhookUrlRefused: the host does not resolve, or to an address no webhook may call.
    """
    try:
        addresses = list(resolver(target.host, target.port))
    except (OSError, UnicodeError) as exc:
        raise WebhookUrlRefused(
            f"Cannot find {target.host} ({exc}); check the webhook's address."
        ) from None
    return check_addresses(target, addresses, internal)


def _address(text: str) -> IpAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
