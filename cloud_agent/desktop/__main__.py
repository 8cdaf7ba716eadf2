"""``python -m cloud_agent.desktop``: the desktop agent (``cli.desktop_command``)."""

from __future__ import annotations

from cloud_agent.desktop.cli import desktop_command

if __name__ == "__main__":
    desktop_command(prog_name="python -m cloud_agent.desktop")
