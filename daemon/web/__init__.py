"""The web dashboard: server-rendered pages over the daemon's services, assets in the package.

``init_app`` registers the pages and the cookie session (``session.py``); ``pages.py`` holds the
queue and job pages, ``actions.py`` the forms that change jobs, ``admin.py`` the farm and users
pages, ``notifications.py`` one's webhooks, ``headers.py`` the Content Security Policy every
answer carries. Every page and every action is checked against the same declared API operations.
"""

from __future__ import annotations

from flask import Flask

from daemon.web import actions, admin, headers, notifications, pages, session  # noqa: F401
from daemon.web.blueprint import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Serves the dashboard from ``/`` (pages) and ``/dashboard-static`` (CSS, JS)."""
    app.register_blueprint(bp)
    session.init_app(app)
