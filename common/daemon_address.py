"""The form of a daemon's address: ``host:port`` is read as ``http://host:port``.

IT writes the daemon's address in many places (``--daemon-url``, ``CLOUDBURST_DAEMON_URL``,
an agent's ``--daemon``, the config file); each goes through ``daemon_url`` when the settings
are read, so a missing scheme is added once and anything that is not an HTTP address is refused
with a sentence instead of failing at the first request.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def daemon_url(text: str) -> str:
    """``text`` as a daemon URL: ``http://`` added when no scheme is written.

    ``farm01:8642``, ``10.0.0.5:8642`` and ``[::1]:8642`` become ``http://...``; ``http://`` and
    ``https://`` addresses are kept as written.

    Raises:
        ValueError: the text is empty, has another scheme, no host, or a bad port; the message
            says what to write.
    """
    address = text.strip()
    if not address:
        raise ValueError("the daemon's address is empty: write it as http://HOST:PORT")
    if not _SCHEME.match(address):
        address = f"http://{address}"
    parts = urlsplit(address)
    example = "write it as http://HOST:PORT, e.g. http://farm01:8642"
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{text!r} is not an HTTP address: {example}")
    try:
        parts.port  # noqa: B018 - reading it checks the number
    except ValueError:
        raise ValueError(f"{text!r} has a bad port: {example}") from None
    if not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{text!r} is not a daemon's address: {example}")
    return address
