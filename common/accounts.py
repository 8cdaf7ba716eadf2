"""Wire models of sign-in, users, agent enrollment and confidential projects."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from common.models import WireModel

UserName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[str, Field(min_length=8, max_length=1024)]
Token = Annotated[str, Field(min_length=1, max_length=4096)]


class Role(StrEnum):
    """What a person may do on the farm."""

    ARTIST = "artist"
    """Submits; sees every job; changes only their own."""
    TD = "td"
    """Manages any job, retries, agents and pools."""
    PRODUCER = "producer"
    """Priorities, pins, shows' holds and shares, overrides and reports."""
    ADMIN = "admin"
    """Users, configuration, everything."""


class LoginRequest(WireModel):
    username: UserName
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class RefreshRequest(WireModel):
    refresh_token: Token


class LogoutRequest(WireModel):
    refresh_token: Token | None = None
    """Optional: the session is also found from the access token."""


class RegisterRequest(WireModel):
    username: UserName
    password: Password


class User(WireModel):
    """A user's profile: role and the permissions it grants."""

    id: int
    name: str
    role: Role
    permissions: list[str]
    active: bool
    deleted: bool
    created_at: datetime
    updated_at: datetime


class TokenPair(WireModel):
    """What a sign-in or a refresh returns."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: float
    """Seconds the access token lives."""
    user: User


class UserCreate(WireModel):
    name: UserName
    role: Role = Role.ARTIST
    password: Password | None = None
    """None: the user cannot sign in with a password (API keys only)."""
    active: bool = True


class UserUpdate(WireModel):
    """Fields to change; the ones left out stay."""

    role: Role | None = None
    password: Password | None = None
    active: bool | None = None


class EnrollmentToken(WireModel):
    """A one-time token an agent registers with (``--enrollment-token``)."""

    token: str
    expires_at: datetime


class Project(WireModel):
    name: str
    confidential: bool
    updated_by: str
    updated_at: datetime | None


class ConfidentialChange(WireModel):
    confidential: bool


class ProjectMembers(WireModel):
    """Who belongs to a project: a confidential project's desktop profiles are offered to its
    members only."""

    project: str
    members: list[str]


class MembersChange(WireModel):
    """``PUT /projects/{project}/members``: the whole list of the project's members (each an
    active user's name)."""

    members: Annotated[list[UserName], Field(max_length=1000)]
