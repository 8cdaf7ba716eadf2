"""Who is calling and what they may do: roles, permissions, tokens, the sign-in limiter."""

from daemon.auth.principal import Principal
from daemon.auth.roles import Permission, permissions_of

__all__ = ["Permission", "Principal", "permissions_of"]
