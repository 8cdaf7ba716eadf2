"""Rules on top of roles, as pure functions: who may own what they submit, who may set what a
renderer loads, whose desktops one may see, and that the farm always keeps an active admin."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.accounts import Role
from common.errors import Conflict, EnvNotAllowed, Forbidden, InvalidInput
from common.render_env import privileged_variables
from daemon.auth.principal import Principal
from daemon.auth.roles import Permission

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOwner:
    """Who a submitted job belongs to, and who sent it."""

    owner: str
    submitted_by: str | None
    """The signed-in account that sent the job; None for the daemon's own callers."""


def job_owner(caller: Principal | None, named: str | None) -> JobOwner:
    """The owner of a job, decided from the caller's credentials.

    A person owns what they submit; ``named`` (the spec's ``owner``) may only be someone else
    when the caller is a TD or an admin, and then the job records who sent it. Callers that are
    not people (the daemon's own services, with no caller) must name the owner.

    Raises:
        Forbidden: ``named`` is someone else and the caller may not submit for others.
        InvalidInput: no owner is named and the caller is not a signed-in person.
    """
    if caller is not None and caller.kind == "user":
        if named is None or named == caller.name:
            return JobOwner(owner=caller.name, submitted_by=caller.name)
        if not caller.may(Permission.JOBS_SUBMIT_AS_OTHER):
            logger.warning("%s refused: submit as %r", caller.describe(), named)
            raise Forbidden(
                f"You are signed in as {caller.name!r} and cannot submit a job owned by "
                f"{named!r}; only TDs and admins can. Leave the owner out to submit as yourself."
            )
        logger.info("%s submits a job owned by %r", caller.describe(), named)
        return JobOwner(owner=named, submitted_by=caller.name)
    if named is None:
        raise InvalidInput(
            "The job names no owner and the request is not signed in as a person; "
            "sign in (cloudburst login) or name the job's owner."
        )
    return JobOwner(owner=named, submitted_by=None)


class LastAdmin(Conflict):
    """The change would leave the farm without an active admin to run it."""

    code = "last_admin"


def runs_the_farm(role: Role, active: bool, deleted: bool) -> bool:
    """Whether an account is an active admin: one who can manage users and the farm."""
    return role is Role.ADMIN and active and not deleted


def check_an_admin_remains(name: str, before: bool, after: bool, other_admins: int) -> None:
    """Refuses a change that takes away the farm's last active admin.

    Args:
        name: the account being changed.
        before: whether it runs the farm now (``runs_the_farm``).
        after: whether it would after the change.
        other_admins: the other active admins, counted in the change's own transaction.

    Raises:
        LastAdmin: ``name`` is the only active admin and would stop being one.
    """
    if before and not after and other_admins == 0:
        logger.warning("refused: %r is the last active admin", name)
        raise LastAdmin(
            f"{name!r} is the only active admin; after this change nobody could manage users "
            "or the farm. Make another user an admin first, then try again."
        )


def check_render_env(caller: Principal | None, env: Mapping[str, str]) -> None:
    """Only TDs and admins set the variables that decide what a renderer loads.

    Raises:
        EnvNotAllowed: ``env`` holds such variables and the caller may not set them.
    """
    names = privileged_variables(env)
    if not names or caller is None or caller.may(Permission.JOBS_RENDER_ENV):
        return
    logger.warning("%s refused: render environment %s", caller.describe(), names)
    raise EnvNotAllowed(
        f"Only TDs and admins may set {', '.join(names)} in a job's environment: these decide "
        "what the renderer loads. Remove them from the job, or ask a TD to submit it."
    )


def owns_desktop(caller: Principal, row: Mapping[str, Any]) -> bool:
    """Whether a desktop session's or snapshot's ``row`` is the caller's own: a signed-in
    person's, by their account id (a name can be taken again after its account is deleted)."""
    return caller.kind == "user" and caller.user_id is not None and caller.user_id == row["user_id"]


def may_touch_desktop(caller: Principal, row: Mapping[str, Any]) -> bool:
    """Whether ``caller`` may see and act on a desktop session's or snapshot's ``row``: its
    own person (``Permission.SESSIONS``), or TDs and admins (``Permission.SESSIONS_MANAGE``).
    Anyone else is told it does not exist."""
    if caller.may(Permission.SESSIONS_MANAGE):
        return True
    return caller.may(Permission.SESSIONS) and owns_desktop(caller, row)
