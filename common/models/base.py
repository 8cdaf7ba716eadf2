"""The base of every wire model, and the bounded numbers and names they share.

Every model is strict: unknown fields are refused (``extra="forbid"``) and values are not
coerced between types, so a typo in a request is an error rather than a silent default.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from common.frames import MAX_FRAME_NUMBER


class WireModel(BaseModel):
    """Base of every wire model: strict, closed, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Name = Annotated[str, Field(min_length=1, max_length=200)]
Priority = Annotated[int, Field(ge=0, le=100)]
#: The largest integer SQLite stores. An id or offset a request names is at most this: a larger
#: one is refused where it enters (a path id is no route, 404; a query or body value is a 400).
MAX_INTEGER = 2**63 - 1
EntityId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
RowId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
"""A job's, task's or user's id as a filter names it."""
Offset = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
"""How many items a page skips."""
Attempt = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
"""Which try at a task an agent reports on (the lease's ``attempt``)."""
FrameNumber = Annotated[int, Field(ge=-MAX_FRAME_NUMBER, le=MAX_FRAME_NUMBER)]
MAX_REPORTED = 10_000
"""The most task ids, frames or files one agent report may list."""
