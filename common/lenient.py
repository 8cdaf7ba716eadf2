"""Reading a newer daemon's answers: fields this side does not know are left out, not refused.

Wire models are closed (``extra="forbid"``), which is right for what the daemon accepts. An
agent, though, is upgraded days after its daemon: a reply that grew a field must not stop it.
``lenient`` drops the keys a model does not know, in the model and in the models it holds, and
then validates what is left as strictly as ever (a missing or malformed known field still
fails).
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def lenient(model: type[M], data: Any) -> M:
    """``model`` validated from ``data`` without the keys it does not know (at any depth)."""
    return model.model_validate(_known(model, data), strict=False)


def _known(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    kept: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in data:
            kept[key] = _trim(field.annotation, data[key])
    return kept


def _trim(annotation: Any, value: Any) -> Any:
    """``value`` with unknown keys left out of every model ``annotation`` names."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _known(annotation, value)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _trim(args[0], value)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        return _known(models[0], value) if len(models) == 1 and isinstance(value, dict) else value
    if origin is list and args and isinstance(value, list):
        return [_trim(args[0], item) for item in value]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {key: _trim(args[1], item) for key, item in value.items()}
    return value
