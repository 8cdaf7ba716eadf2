"""Headless Chromium for browser tests: Debian's ``/usr/bin/chromium`` driven by Playwright.

Playwright never downloads a browser here; without the system Chromium or the ``playwright``
package the browser tests are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
    reason="browser tests need Debian's chromium (apt-get install chromium) and playwright "
    "(pip install -e '.[test]')",
)
