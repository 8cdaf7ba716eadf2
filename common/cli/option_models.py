"""Models built from command-line options, whose errors name the options, not the fields.

A command maps each model field it fills to the option that gave it (``chunk_size`` to
``--chunk``); a bad value is then refused as ``--chunk 0: input should be greater than or
equal to 1``, the words the user typed, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from common.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)

#: Longest shown piece of a bad value (a 5,000-character note is not echoed whole).
_SHOWN_VALUE = 40


def from_options(
    model: type[M], fields: Mapping[str, Any], options: Mapping[str, str], refusal: str
) -> M:
    """``model`` validated from ``fields`` (lax: options give text and numbers).

    Args:
        model: the model to build.
        fields: its fields' values.
        options: the option (or argument) that gave each field, by dotted field path
            (``"chunk_size": "--chunk"``, ``"shotgrid.task_id": "--sg-task-id"``); a field
            missing here is named as the field.
        refusal: the sentence the message starts with ("The job cannot be submitted").

    Raises:
        InvalidInput: a value is bad; the message names each option and what is wrong.
    """
    try:
        return model.model_validate(dict(fields), strict=False)
    except ValidationError as exc:
        problems = "; ".join(describe(error, options) for error in exc.errors())
        raise InvalidInput(f"{refusal}: {problems}.") from None


def describe(error: ErrorDetails, options: Mapping[str, str]) -> str:
    """One validation error as ``--option value: what is wrong``."""
    message = error["msg"].removeprefix("Value error, ")
    message = message[:1].lower() + message[1:]
    loc = [str(part) for part in error["loc"]]
    for end in range(len(loc), 0, -1):  # the longest path an option gave
        option = options.get(".".join(loc[:end]))
        if option is not None:
            return f"{option}{_shown(error.get('input'), end == len(loc))}: {message}"
    return f"{'.'.join(loc)}: {message}" if loc else message


def _shown(value: Any, whole: bool) -> str:
    """The bad value after the option's name, when it is the option's own plain value."""
    if not whole or not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    text = str(value)
    if len(text) > _SHOWN_VALUE:
        text = text[: _SHOWN_VALUE - 3] + "..."
    return f" {text!r}" if isinstance(value, str) else f" {text}"
