"""One runner per DCC: command line, progress parsing, output discovery.

``get_runner(dcc, settings)`` finds the runner of a job's DCC; ``known_dccs()`` lists the DCCs
this agent can render, which it tells the daemon when it registers.
"""

from __future__ import annotations

from cloud_agent.runners.base import (
    LineReport,
    Runner,
    RunnerFactory,
    TaskRender,
    get_runner,
    known_dccs,
    register_runner,
)
from cloud_agent.runners.blender import BlenderRunner

__all__ = [
    "LineReport",
    "Runner",
    "RunnerFactory",
    "TaskRender",
    "get_runner",
    "known_dccs",
    "register_runner",
]

register_runner(BlenderRunner.dcc, BlenderRunner.from_settings)
