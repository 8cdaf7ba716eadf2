"""What the dashboard's answers tell the browser: a strict Content Security Policy and friends.

Pages load scripts, styles and pictures from this daemon only and talk to no one else; no
inline script or style runs (the CSS and JS are static files; a progress bar's width is set by
the script from ``data-percent``); no other site may frame a page (clickjacking) and forms post
only here. The API's answers carry ``nosniff`` too (``daemon/api/headers.py``).
"""

from __future__ import annotations

from flask import Response

from daemon.web.blueprint import bp

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    # Nothing leaves for other sites; not "no-referrer", with which a browser sends the
    # dashboard's own form posts with "Origin: null" and the CSRF check refuses them.
    "Referrer-Policy": "same-origin",
}  # nosniff: on every answer of the app, pages included (daemon/api/headers.py)


@bp.after_request
def add_page_headers(response: Response) -> Response:
    """After every dashboard request (pages, forms, static files, error pages)."""
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
