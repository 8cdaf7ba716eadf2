"""``python -m common.cli``: the same as the ``cloudburst`` console script."""

from __future__ import annotations

from common.cli.main import main

if __name__ == "__main__":
    main()
