"""``python -m cloud_agent``: the same as ``cloudburst agent``."""

from __future__ import annotations

from cloud_agent.cli import agent_command

if __name__ == "__main__":
    agent_command(prog_name="python -m cloud_agent")
