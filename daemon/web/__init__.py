"""The web dashboard: server-rendered pages over the daemon's services, assets in the package.

``init_app`` registers the pages and the cookie session (``session.py``); ``pages.py`` holds the
queue and job pages, ``actions.py`` the forms that change jobs, ``farm.py`` the farm page and
its node buttons (``charts.py`` its charts, drawn as SVG on the server), ``admin.py`` the users
page, ``notifications.py`` one's webhooks, ``desktops.py`` one's desktop sessions and their
snapshots, ``headers.py`` the Content Security Policy every answer carries. Every page and
every action is checked against the same declared API operations.
"""

from __future__ import annotations

from flask import Flask

from daemon.web import (  # noqa: F401 (they join bp)
    actions,
    admin,
    desktops,
    farm,
    headers,
    notifications,
    pages,
    session,
)
from daemon.web.blueprint import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Serves the dashboard from ``/`` (pages) and ``/dashboard-static`` (CSS, JS)."""
    app.register_blueprint(bp)
    session.init_app(app)
