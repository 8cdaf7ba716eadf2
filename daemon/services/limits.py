"""Limits: the named counters TDs set (``maya: 20`` licences, one GPU job per node), with the
units in use.

The lease takes a unit with the task in one write transaction and the unit comes back when the
task leaves its agent (``storage/limits.py`` counts them from the tasks). Every change is
recorded with who made it in production's overrides (``GET /api/v1/overrides``) and logged.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import TypeAdapter, ValidationError

from common.errors import InvalidInput, NotFound
from common.models import Label, Limit, LimitChange
from daemon.context import Context
from daemon.storage import limits as limit_store
from daemon.storage import ranking as rank_store

logger = logging.getLogger(__name__)

_LABEL: TypeAdapter[str] = TypeAdapter(Label)


class LimitService:
    """Lists, sets and removes limits."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def list_limits(self) -> list[Limit]:
        """Every limit with the units in use now (per node: on the busiest node)."""
        return [_model(row) for row in limit_store.list_limits(self.ctx.database.db)]

    def put(self, name: str, change: LimitChange, by: str) -> Limit:
        """Sets limit ``name`` (new or not) to ``change``; ``by`` is the signed-in caller.

        Lowering a capacity below the units in use takes none back: running tasks finish, and
        no task of a job listing it is handed out until the use is under the new capacity.

        Raises:
            InvalidInput: ``name`` is not a limit's name.
        """
        check_name(name)
        now = self.ctx.now()
        value = f"{change.capacity}{' per node' if change.per_node else ''}"
        with self.ctx.database.transaction() as db:
            limit_store.put_limit(db, name, change.capacity, change.per_node, now, by)
            rank_store.record_override(db, now, by, "limit", f"limit {name}", value, "")
        logger.info("limit %s set to %s by %s", name, value, by)
        return self._one(name)

    def delete(self, name: str, by: str) -> Limit:
        """Removes limit ``name``: jobs listing it are no longer held by it. Returns it as it
        was.

        Raises:
            InvalidInput: ``name`` is not a limit's name.
            NotFound: there is no such limit.
        """
        check_name(name)
        found = self._one(name)
        with self.ctx.database.transaction() as db:
            if not limit_store.delete_limit(db, name):
                raise _unknown(name)
            rank_store.record_override(db, self.ctx.now(), by, "limit-delete", f"limit {name}",
                                       "", "")  # fmt: skip
        logger.info("limit %s removed by %s", name, by)
        return found

    def _one(self, name: str) -> Limit:
        for row in limit_store.list_limits(self.ctx.database.db):
            if row["name"] == name:
                return _model(row)
        raise _unknown(name)


def check_name(name: str) -> str:
    """``name`` if it is a limit's name (a ``Label``).

    Raises:
        InvalidInput: it is not.
    """
    try:
        return _LABEL.validate_python(name)
    except ValidationError:
        raise InvalidInput(
            f"{name[:80]!r} is not a limit's name: use 1 to 80 letters, digits and _ . + -, "
            "starting with a letter or digit (maya, arnold, houdini-engine).",
            details={"name": name[:80]},
        ) from None


def _unknown(name: str) -> NotFound:
    return NotFound(f"There is no limit {name!r}. List the limits with GET /api/v1/limits.")


def _model(row: dict[str, Any]) -> Limit:
    return Limit(
        name=row["name"],
        capacity=row["capacity"],
        per_node=bool(row["per_node"]),
        in_use=row["in_use"],
    )
