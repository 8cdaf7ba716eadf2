"""Headers on every answer of the daemon: browsers must not guess a content type.

A stored file or a render log served as ``application/octet-stream`` or JSON is never run as a
script or a page because a browser sniffed it to be one. The dashboard adds its own policy
(``daemon/web/headers.py``).
"""

from __future__ import annotations

from flask import Flask, Response


def _nosniff(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_nosniff)
