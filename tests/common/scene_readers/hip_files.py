"""Houdini scene files written by tests: the cpio archive Houdini saves, node by node."""

from __future__ import annotations


def odc(members: dict[str, str | bytes]) -> bytes:
    """A cpio archive in the portable ASCII format, as Houdini writes .hip files."""
    out = b""
    for ino, (name, body) in enumerate([*members.items(), ("TRAILER!!!", b"")], start=1):
        data = body.encode() if isinstance(body, str) else body
        encoded = name.encode() + b"\0"
        fields = (0, ino, 0o100666, 0, 0, 1, 0)
        header = b"070707" + b"".join(b"%06o" % f for f in fields)
        header += b"%011o" % 1_700_000_000 + b"%06o" % len(encoded) + b"%011o" % len(data)
        out += header + encoded + data
    return out


def parm(name: str, *values: str) -> str:
    return f"{name}\t[ 0\tlocks=0 ]\t(\t" + "\t".join(values) + "\t)\n"


def node(members: dict[str, str | bytes], path: str, node_type: str, *parms: str) -> None:
    members[f"{path}.init"] = f"type = {node_type}\nmatchesdef = 0\n"
    members[f"{path}.def"] = "flags =  lock off bypass off display off\n"
    members[f"{path}.parm"] = "{\nversion 0.8\n" + "".join(parms) + "}\n"


def framed(members: dict[str, str | bytes], signature: bytes = b"HouNC") -> bytes:
    """An Apprentice (``HouNC``) or Indie (``HouLC``) file: each member framed as
    ``<signature>\\x1a`` + 28 hex digits + its name + NUL + its contents."""
    out = b""
    for name, body in members.items():
        data = body.encode() if isinstance(body, str) else body
        out += signature + b"\x1a" + b"0a1b2c3d4e5f60718293a4b5c6d7" + name.encode() + b"\0" + data
    return out
