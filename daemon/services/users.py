"""The users API: create, list, read, update, soft delete and restore."""

from __future__ import annotations

import logging
from typing import Any

import sqlite_utils

from common.accounts import Role, User, UserCreate, UserUpdate
from common.errors import Conflict, InvalidInput, NotFound
from daemon.auth.passwords import hash_password
from daemon.auth.roles import permissions_of
from daemon.auth.rules import check_an_admin_remains, runs_the_farm
from daemon.auth.token_cache import CredentialCache
from daemon.context import Context, to_datetime
from daemon.storage import sessions as session_store
from daemon.storage import users as user_store

logger = logging.getLogger(__name__)


def user_from_row(row: dict[str, Any]) -> User:
    role = Role(row["role"])
    return User(
        id=row["id"],
        name=row["name"],
        role=role,
        permissions=sorted(p.value for p in permissions_of(role)),
        active=bool(row["active"]),
        deleted=row["deleted_at"] is not None,
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
    )


class UserService:
    """What admins do with accounts (and the ``cloudburst user`` command).

    ``credentials`` is the cache of checked tokens, told once a change of a user commits (the
    ``cloudburst user`` command's own tells the daemon's processes through the data folder)."""

    def __init__(self, context: Context, credentials: CredentialCache) -> None:
        self.ctx = context
        self.credentials = credentials

    def create(self, request: UserCreate) -> User:
        now = self.ctx.now()
        password = hash_password(request.password) if request.password else None
        with self.ctx.database.transaction() as db:
            if user_store.user_by_name(db, request.name) is not None:
                raise InvalidInput(f"The user name {request.name!r} is taken.")
            user_id = user_store.insert_user(
                db, request.name, request.role.value, password, request.active, now
            )
        logger.info("user %s created as %s", request.name, request.role.value)
        return self.get(user_id)

    def list_users(self, include_deleted: bool = False) -> list[User]:
        rows = user_store.list_users(self.ctx.database.db, include_deleted)
        return [user_from_row(row) for row in rows]

    def get(self, user_id: int) -> User:
        return user_from_row(self._row(user_id))

    def update(self, user_id: int, change: UserUpdate) -> User:
        """Changes role, password or active flag.

        Raises:
            NotFound: no such user.
            Conflict: the user is deleted.
            LastAdmin: the change would leave no active admin.
        """
        fields: dict[str, Any] = {}
        if change.role is not None:
            fields["role"] = change.role.value
        if change.password is not None:
            fields["password_hash"] = hash_password(change.password)
        if change.active is not None:
            fields["active"] = int(change.active)
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            row = self._row(user_id)
            if row["deleted_at"] is not None:
                raise Conflict(f"User {row['name']!r} is deleted; restore it first.")
            self._keep_an_admin(db, row, {**row, **fields})
            if fields:
                user_store.update_user(db, user_id, now, **fields)
            if change.password is not None or change.active is False:
                session_store.revoke_user_sessions(db, user_id, now)
        self.credentials.forget_user(user_id)  # a new role or flag: its tokens mean otherwise
        logger.info("user %s updated: %s", row["name"], sorted(fields))
        return self.get(user_id)

    def delete(self, user_id: int) -> User:
        """Soft delete: the account stops working at once and can be restored.

        Raises:
            LastAdmin: the user is the only active admin.
        """
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            row = self._row(user_id)
            if row["deleted_at"] is None:
                self._keep_an_admin(db, row, {**row, "deleted_at": now})
                user_store.update_user(db, user_id, now, deleted_at=now)
                session_store.revoke_user_sessions(db, user_id, now)
        self.credentials.forget_user(user_id)
        logger.info("user %s deleted (recoverable)", row["name"])
        return self.get(user_id)

    def restore(self, user_id: int) -> User:
        now = self.ctx.now()
        with self.ctx.database.transaction() as db:
            row = self._row(user_id)
            if row["deleted_at"] is None:
                raise Conflict(f"User {row['name']!r} is not deleted.")
            user_store.update_user(db, user_id, now, deleted_at=None)
        logger.info("user %s restored", row["name"])
        return self.get(user_id)

    @staticmethod
    def _keep_an_admin(
        db: sqlite_utils.Database, row: dict[str, Any], after: dict[str, Any]
    ) -> None:
        """Refuses (``LastAdmin``) a change of ``row`` into ``after`` that leaves no active
        admin. Runs inside the change's transaction, so two admins demoting each other at once
        cannot both succeed."""

        def admin(user: dict[str, Any]) -> bool:
            deleted = user["deleted_at"] is not None
            return runs_the_farm(Role(user["role"]), bool(user["active"]), deleted)

        others = user_store.count_active(db, Role.ADMIN.value, other_than=row["id"])
        check_an_admin_remains(row["name"], admin(row), admin(after), others)

    def _row(self, user_id: int) -> dict[str, Any]:
        row = user_store.get_user(self.ctx.database.db, user_id)
        if row is None:
            raise NotFound(f"There is no user {user_id}.")
        return row
