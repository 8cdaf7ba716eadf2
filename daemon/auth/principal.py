"""The caller of one request, as the daemon authenticated it."""

from __future__ import annotations

from dataclasses import dataclass

from common.accounts import Role
from daemon.auth.roles import Permission, permissions_of


@dataclass(frozen=True)
class Principal:
    """A user (with a role), an agent (with its id), or nobody (``anonymous``)."""

    kind: str
    """``user``, ``agent`` or ``anonymous``."""
    name: str = ""
    role: Role | None = None
    user_id: int | None = None
    agent_id: str | None = None
    session_id: str | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.kind == "user" and self.role is not None:
            return permissions_of(self.role)
        return frozenset({Permission.PUBLIC})

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    def describe(self) -> str:
        if self.kind == "user":
            return f"user {self.name!r} ({self.role})"
        if self.kind == "agent":
            return f"agent {self.agent_id}"
        return "an anonymous caller"


ANONYMOUS = Principal(kind="anonymous")
