"""A plugin command for the tests of lazy command loading."""

from __future__ import annotations

import click


@click.command("hello")
def hello() -> None:
    """Say hello."""
    click.echo("hello from a plugin")
