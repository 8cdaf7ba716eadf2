"""``cloudburst agents``: list the nodes, disable, drain and enable one, on a real daemon."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from common.cli.context import CliState
from common.cli.main import cli
from common.client import DaemonClient
from common.credentials import StaticToken
from tests.daemon.farm_http import Farm, serve_farm


def invoke(farm: Farm, args: list[str], as_: str = "td") -> Result:
    client = DaemonClient(farm.url, auth=StaticToken(farm.tokens[as_]))
    try:
        state = CliState(client=client, poll_interval_s=0)
        return CliRunner(env={"COLUMNS": "200"}).invoke(cli, args, obj=state)
    finally:
        client.close()


def test_agents_lists_state_pool_resources_load_and_current_task(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        farm.submit(name="sh010 light", frames="1-4", chunk_size=2)
        busy, idle = farm.agent("busy01", memory_mb=65536), farm.agent("idle01")
        assert farm.lease(busy) is not None
        beat = {"cpu_percent": 93.0, "memory_percent": 40.0}
        farm.data("POST", f"/agents/{busy}/heartbeat", json=beat)
        farm.data("POST", f"/agents/{idle}/drain")
        for args in (["agents"], ["agents", "list"]):
            listed = invoke(farm, args, as_="artist")
            assert listed.exit_code == 0, listed.output
            lines = {line.split()[1]: line for line in listed.output.splitlines()
                     if "01 " in line}  # fmt: skip
            assert "busy" in lines["busy01"] and "1 cores, 64 GB" in lines["busy01"]
            assert "CPU 93% mem 40%" in lines["busy01"]
            assert "sh010 light (job 1) frames 1-2 0%" in lines["busy01"]
            assert "drained (online)" in lines["idle01"] and "local" in lines["idle01"]
        as_json = invoke(farm, ["agents", "list", "--json"])
        assert {a["name"]: a["activity"] for a in json.loads(as_json.output)} == {
            "busy01": "busy", "idle01": "drained",
        }  # fmt: skip


def test_agents_disable_drain_and_enable_a_node_by_name_or_id(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        farm.submit(frames="1-4", chunk_size=1)
        node = farm.agent("node01")
        lease = farm.lease(node)
        assert lease is not None
        disabled = invoke(farm, ["agents", "disable", "node01"])
        assert disabled.exit_code == 0, disabled.output
        assert (
            disabled.output == f"Agent node01 ({node}) disabled; it finishes 1 running task(s).\n"
        )
        assert farm.lease(node) is None
        assert invoke(farm, ["agents", "enable", node]).exit_code == 0
        assert farm.agents()[node]["control"] == "enabled"
        drained = invoke(farm, ["agents", "drain", "node01"])
        assert drained.exit_code == 0 and "draining" in drained.output
        assert farm.complete(node, lease).status_code == 200
        assert farm.lease(node) is None and farm.agents()[node]["activity"] == "drained"


def test_agents_refuses_unknown_ambiguous_names_and_artists(tmp_path: Path) -> None:
    with serve_farm(tmp_path) as farm:
        first, second = farm.agent("twin"), farm.agent("twin")
        farm.agent("node01")
        unknown = invoke(farm, ["agents", "disable", "nope"])
        assert unknown.exit_code == 1
        assert "No agent is named 'nope' or has that id; `cloudburst agents` lists them." in (
            unknown.output
        )
        twins = invoke(farm, ["agents", "drain", "twin"])
        assert twins.exit_code == 1 and "2 agents are named 'twin'" in twins.output
        assert first in twins.output and second in twins.output
        artist = invoke(farm, ["agents", "disable", "node01"], as_="artist")
        assert artist.exit_code == 1 and "agents.manage" in artist.output
        assert {a["control"] for a in farm.agents().values()} == {"enabled"}
