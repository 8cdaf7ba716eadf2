"""URL converters: ``<int:...>`` in a route is a row id that SQLite can hold."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from common.models import MAX_INTEGER


def at_most(limit: int) -> str:
    """A regular expression of the decimal numbers from 0 to ``limit`` (leading zeros allowed
    up to ``limit``'s width).

    Example: ``at_most(250)`` matches ``7``, ``99``, ``199``, ``249`` and ``250``, not ``251``.
    """
    digits = str(limit)
    options = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            options.append(f"{digits[:i]}[0-{int(digit) - 1}][0-9]{{{len(digits) - i - 1}}}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """``<int:...>``: 0 to ``MAX_INTEGER``. A larger number matches no rule, so every method
    gets a clean 404 (not a 500 from an overflow in the database layer). The bound is in the
    pattern rather than in ``to_python``: werkzeug answers a value refused there with a 405 for
    the methods of the path's other rules."""

    regex = at_most(MAX_INTEGER)


def init_app(app: Flask) -> None:
    """Makes every ``<int:...>`` of the app's routes an ``IdConverter``; call before any
    blueprint is registered (the rules compile their converters then)."""
    app.url_map.converters["int"] = IdConverter
