"""The README's command table and the ``cloudburst`` command agree: every option a row names
exists, and every command (plug-ins included) has a row naming each of its options."""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from common.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## The `cloudburst` command"

Path_ = tuple[str, ...]


def root_group() -> click.Group:
    """``cloudburst`` with the plug-ins pyproject.toml registers (not the installed ones, which
    may be an older checkout's)."""
    group = click.Group("cloudburst", commands=dict(cli.commands))
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    plugins = table["project"]["entry-points"]["cloudburst.commands"]
    for name, target in plugins.items():
        module, _, attribute = target.partition(":")
        group.add_command(getattr(importlib.import_module(module), attribute), name)
    return group


def readme_forms() -> Iterator[str]:
    """Each ``cloudburst ...`` form in the first column of the README's command table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        if line.startswith("| `cloudburst"):
            first_cell = re.split(r"(?<!\\)\|", line)[1]
            yield from re.findall(r"`(cloudburst [^`]*)`", first_cell)


def resolve(form: str, group: click.Group) -> list[tuple[Path_, click.Command]]:
    """The commands a form names (``job cancel\\|pause ID`` names two), with their paths."""
    found: list[tuple[Path_, click.Command]] = [((), group)]
    for word in form.split()[1:]:
        choices = word.replace("\\|", "|").split("|")
        if not all(isinstance(c, click.Group) for _, c in found):
            break
        nexts = [
            ((*path, choice), command.commands[choice])  # type: ignore[attr-defined]
            for path, command in found
            for choice in choices
            if choice in command.commands  # type: ignore[attr-defined]
        ]
        if len(nexts) != len(found) * len(choices):
            break
        found = nexts
    return found


def documented() -> dict[Path_, set[str]]:
    """The options the README names, by command path."""
    group = root_group()
    options: dict[Path_, set[str]] = {}
    for form in readme_forms():
        for path, _ in resolve(form, group):
            options.setdefault(path, set()).update(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", form))
    return options


def commands(group: click.Group, path: Path_ = ()) -> Iterator[tuple[Path_, click.Command]]:
    """Every command a user can run: leaves, and groups that run without a subcommand."""
    for name, command in sorted(group.commands.items()):
        here = (*path, name)
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield here, command
            yield from commands(command, here)
        else:
            yield here, command


def option_names(command: click.Command) -> list[set[str]]:
    """The long names of each option (``--cache`` and ``--no-cache`` are one option)."""
    options = []
    for param in command.params:
        if isinstance(param, click.Option):
            names = {n for n in (*param.opts, *param.secondary_opts) if n.startswith("--")}
            if names and names != {"--help"}:
                options.append(names)
    return options


def test_every_option_the_readme_names_exists() -> None:
    known = dict(commands(root_group()))
    wrong = {}
    for path, options in documented().items():
        if path in known:
            real = set().union(*option_names(known[path]))
            if options - real:
                wrong[" ".join(path)] = sorted(options - real)
    assert wrong == {}, f"the README names options these commands do not have: {wrong}"


def test_every_command_and_option_is_in_the_readme() -> None:
    readme = documented()
    missing = {}
    for path, command in commands(root_group()):
        absent = [names for names in option_names(command) if not names & readme.get(path, set())]
        if path not in readme or absent:
            missing[" ".join(path)] = sorted(min(names) for names in absent)
    assert missing == {}, f"commands or options the README's command table lacks: {missing}"


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("cloudburst job cancel\\|pause ID", [("job", "cancel"), ("job", "pause")]),
        ("cloudburst install-dcc maya\\|nuke [--print]", [("install-dcc",)]),
        ("cloudburst agent enroll", [("agent", "enroll")]),
    ],
)
def test_forms_are_read_as_the_commands_they_name(form: str, expected: list[Path_]) -> None:
    assert [path for path, _ in resolve(form, root_group())] == expected
