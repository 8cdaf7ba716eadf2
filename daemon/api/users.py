"""``/api/v1/users``: accounts, for admins. Delete is soft and recoverable."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from common.accounts import User, UserCreate, UserUpdate
from common.errors import Conflict, InvalidInput, NotFound
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.auth.rules import LastAdmin
from daemon.container import services
from daemon.services.users import UserService

bp = ApiBlueprint("users", __name__, tag="users")


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deleted: Annotated[bool, Field(description="Include deleted users")] = False


def users() -> UserService:
    return services().users


@bp.operation(
    "POST", "/users", "Create a user", body=UserCreate, returns=User, status=201,
    errors=(InvalidInput,), permission=Permission.USERS_MANAGE,
)  # fmt: skip
def create_user(body: UserCreate) -> User:
    return users().create(body)


@bp.operation(
    "GET", "/users", "List users", query=UserQuery, returns=User, returns_list=True,
    permission=Permission.USERS_MANAGE,
)  # fmt: skip
def list_users(query: UserQuery) -> list[User]:
    return users().list_users(include_deleted=query.deleted)


@bp.operation(
    "GET", "/users/<int:user_id>", "A user's profile: role and permissions", returns=User,
    errors=(NotFound,), permission=Permission.USERS_MANAGE,
)  # fmt: skip
def get_user(user_id: int) -> User:
    return users().get(user_id)


@bp.operation(
    "PUT", "/users/<int:user_id>", "Change a user's role, password or active flag",
    body=UserUpdate, returns=User, errors=(NotFound, Conflict, InvalidInput, LastAdmin),
    permission=Permission.USERS_MANAGE,
)  # fmt: skip
def update_user(user_id: int, body: UserUpdate) -> User:
    return users().update(user_id, body)


@bp.operation(
    "DELETE", "/users/<int:user_id>", "Delete a user (soft: restorable); their sessions end",
    returns=User, errors=(NotFound, LastAdmin), permission=Permission.USERS_MANAGE,
)  # fmt: skip
def delete_user(user_id: int) -> User:
    return users().delete(user_id)


@bp.operation(
    "POST", "/users/<int:user_id>/restore", "Restore a deleted user", returns=User,
    errors=(NotFound, Conflict), permission=Permission.USERS_MANAGE,
)  # fmt: skip
def restore_user(user_id: int) -> User:
    return users().restore(user_id)
