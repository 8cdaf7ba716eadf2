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
from cloud_agent.runners.houdini import HoudiniRunner
from cloud_agent.runners.maya import MayaRunner
from cloud_agent.runners.nuke import NukeRunner

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
register_runner(MayaRunner.dcc, MayaRunner.from_settings)
register_runner(HoudiniRunner.dcc, HoudiniRunner.from_settings)
register_runner(NukeRunner.dcc, NukeRunner.from_settings)
