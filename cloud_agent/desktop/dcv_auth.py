"""A NICE DCV server's external authenticator, answered by our broker.

With ``auth-token-verifier`` set to this desktop's ``/dcv/auth``, a DCV server posts each
client's ``sessionId`` and ``authenticationToken`` (a form) and lets the client in as the user
named in ``<auth result="yes"><username>NAME</username></auth>``; ``<auth result="no"/>``
keeps it out. The token is the session's one-time connection token, spent with the broker as
the stand-in's ``/connect`` spends it.
"""

from __future__ import annotations

from urllib.parse import parse_qs
from xml.sax.saxutils import escape


def token_of(body: bytes) -> str | None:
    """The ``authenticationToken`` of a DCV server's form; None when absent or not one."""
    try:
        form = parse_qs(body.decode("ascii"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    tokens = form.get("authenticationToken", [])
    if len(tokens) != 1 or not 0 < len(tokens[0]) <= 200:
        return None
    return tokens[0]


def answer(user: str | None) -> bytes:
    """What DCV reads: yes with the user's name, or no."""
    if user is None:
        return b'<auth result="no"/>'
    return f'<auth result="yes"><username>{escape(user)}</username></auth>'.encode()
