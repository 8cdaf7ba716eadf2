"""``cloudburst agents [list]`` and ``cloudburst agents disable|drain|enable NODE``: the farm's
nodes in a terminal, and a TD's hand on them. A node is named by its name or its id."""

from __future__ import annotations

from typing import Literal

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from common.cli.context import echo_json, state_of
from common.client import DaemonClient
from common.errors import InvalidInput, NotFound
from common.models import AgentInfo, NodeLoad

ACTIVITY_STYLES = {
    "busy": "bold blue", "idle": "green", "offline": "dim", "disabled": "bold red",
    "draining": "yellow", "drained": "magenta",
}  # fmt: skip

DONE = {"disable": "disabled", "drain": "draining", "enable": "enabled"}


def find_agent(agents: list[AgentInfo], node: str) -> AgentInfo:
    """The agent whose id is ``node``, else the one named ``node``.

    Raises:
        NotFound: no agent has that id or name.
        InvalidInput: several agents have that name.
    """
    for agent in agents:
        if agent.id == node:
            return agent
    named = [agent for agent in agents if agent.name == node]
    if not named:
        raise NotFound(
            f"No agent is named {node!r} or has that id; `cloudburst agents` lists them."
        )
    if len(named) > 1:
        ids = ", ".join(agent.id for agent in named)
        raise InvalidInput(f"{len(named)} agents are named {node!r}; name one by its id: {ids}.")
    return named[0]


def _resources(agent: AgentInfo) -> str:
    text = f"{agent.cores} cores, {agent.memory_mb / 1024:.0f} GB"
    if agent.gpus:
        models = sorted({gpu.model for gpu in agent.gpus})
        text += f", {len(agent.gpus)} GPU ({', '.join(models)})"
    return text


def _load(load: NodeLoad | None) -> str:
    if load is None:
        return "-"
    figures = (("CPU", load.cpu_percent), ("mem", load.memory_percent), ("GPU", load.gpu_percent))
    parts = [f"{name} {value:.0f}%" for name, value in figures if value is not None]
    return " ".join(parts) or "-"


def agents_table(agents: list[AgentInfo]) -> Table:
    """One row per agent: name, state, pool, resources, load and what it runs."""
    table = Table(title=f"{len(agents)} agent(s)")
    for column in ("Name", "State", "Pool", "Cores / memory / GPUs", "Load", "Current task"):
        table.add_column(column)
    for agent in agents:
        state = Text(agent.activity, style=ACTIVITY_STYLES.get(agent.activity, ""))
        if agent.activity in ("disabled", "draining", "drained"):
            state.append(f" ({agent.state})", style="dim")
        if agent.suspect:
            state.append(" suspect", style="bold red")
        tasks = "\n".join(
            f"{task.job_name} (job {task.job_id}) frames {task.frames} {task.progress:.0%}"
            for task in agent.tasks
        )
        table.add_row(
            agent.name, state, agent.pool, _resources(agent), _load(agent.load), tasks or "-"
        )
    return table


@click.group("agents", invoke_without_command=True)
@click.pass_context
def agents_group(ctx: click.Context) -> None:
    """The farm's nodes: list them (the default), or disable, drain or enable one."""
    if ctx.invoked_subcommand is None:
        Console(width=200).print(agents_table(state_of(ctx).get_client().agents()))


@agents_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the agents as JSON.")
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List the nodes: state, pool, resources, load and current task."""
    agents = state_of(ctx).get_client().agents()
    if as_json:
        echo_json(agents)
    else:
        Console(width=200).print(agents_table(agents))


def _act(ctx: click.Context, node: str, action: Literal["disable", "drain", "enable"]) -> None:
    client: DaemonClient = state_of(ctx).get_client()
    agent = client.agent_action(find_agent(client.agents(), node).id, action)
    running = f"; it finishes {len(agent.tasks)} running task(s)" if agent.tasks else ""
    click.echo(
        f"Agent {agent.name} ({agent.id}) {DONE[action]}{running if action != 'enable' else ''}."
    )


node_argument = click.argument("node", metavar="NODE")


@agents_group.command("disable")
@node_argument
@click.pass_context
def disable_command(ctx: click.Context, node: str) -> None:
    """Lease nothing new to NODE (a name or an id); what it runs goes on."""
    _act(ctx, node, "disable")


@agents_group.command("drain")
@node_argument
@click.pass_context
def drain_command(ctx: click.Context, node: str) -> None:
    """Let NODE finish what it runs, then lease it nothing."""
    _act(ctx, node, "drain")


@agents_group.command("enable")
@node_argument
@click.pass_context
def enable_command(ctx: click.Context, node: str) -> None:
    """Let a disabled or drained NODE lease again."""
    _act(ctx, node, "enable")
