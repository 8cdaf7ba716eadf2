"""An agent's token acts only as its own agent: every agent-protocol operation names the agent
in its path (the guard compares it with the token's), but for the few that answer every agent
alike and touch no agent's state."""

from __future__ import annotations

from daemon import api
from daemon.auth import Permission

ANSWER_EVERY_AGENT = {("GET", "/agents/protocol")}
"""Agent-protocol operations without an agent in the path: what they answer is the same for
every agent (the protocol version and the daemon's settings)."""


def test_every_agent_operation_names_its_agent_but_the_few_that_answer_all() -> None:
    found = [
        (op.method, op.path)
        for blueprint in api.BLUEPRINTS
        for op in blueprint.operations
        if op.permission is Permission.AGENT_PROTOCOL
    ]
    assert len(found) >= 5  # lease, heartbeat, progress, log, complete...
    unnamed = {(method, path) for method, path in found if "<agent_id>" not in path}
    assert unnamed <= ANSWER_EVERY_AGENT, f"review the guard for {unnamed - ANSWER_EVERY_AGENT}"
