"""Errors of models built from options name the option the user typed, not the model's field,
and nothing is sent (``common/cli/option_models.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from common.cli.context import CliState
from common.cli.main import cli
from common.token_store import FileStore
from tests.cli_isolation import no_user_config  # noqa: F401 (autouse)
from tests.common.cli.test_cli import Untouchable


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    path = tmp_path / "shot010.blend"
    path.write_bytes(b"BLENDER")
    return path


def invoke(args: list[str], **state: object) -> Result:
    return CliRunner().invoke(cli, args, obj=CliState(client=Untouchable(), **state))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "named", "field"),
    [
        (["--chunk", "0"], "--chunk 0: input should be greater than or equal to 1", "chunk_size"),
        (["--retries", "-1"], "--retries -1: input should be greater than", "max_retries"),
        (["--timeout", "0"], "--timeout 0: input should be greater than", "timeout_s"),
        (["--dcc", "Maya"], "--dcc 'Maya': string should match pattern", "dcc:"),
        (["--gpus", "-2"], "--gpus -2: input should be greater than", "requirements.gpus"),
        (["--stall-timeout", "0"], "--stall-timeout 0: input should be", "stall_timeout_s"),
        (["--sg-shot", "x" * 300], "--sg-shot 'xxxx", "shotgrid.shot"),
    ],
)
def test_submit_errors_name_the_option(
    scene: Path, options: list[str], named: str, field: str
) -> None:
    result = invoke(["submit", str(scene), "-f", "1-4", "--no-preflight", *options])
    assert result.exit_code == 1, result.output
    assert f"The job cannot be submitted: {named}" in result.stderr
    assert field not in result.stderr
    assert "Traceback" not in result.output


def test_several_bad_options_are_all_named(scene: Path) -> None:
    result = invoke(["submit", str(scene), "-f", "1-4", "--no-preflight", "--priority", "200",
                     "--chunk", "0"])  # fmt: skip
    assert result.exit_code == 1
    assert "--chunk 0: " in result.stderr and "; --priority 200: " in result.stderr


def test_a_long_value_is_shortened_in_the_message(scene: Path) -> None:
    result = invoke(["job", "pin", "7", "--note", "n" * 5000])
    assert result.exit_code == 1
    assert "Job 7 cannot be pinned: --note 'nnnn" in result.stderr
    assert "...': string should have at most 1000 characters." in result.stderr
    assert "n" * 100 not in result.stderr
    assert "Traceback" not in result.output


def test_login_names_the_user_option_and_never_shows_the_password(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "tokens.json")
    result = CliRunner().invoke(
        cli,
        ["--daemon-url", "http://127.0.0.1:9", "login", "--user", "Bad Name!",
         "--password-stdin"],
        input="s3cret-pass\n",
        obj=CliState(token_store=store),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Cannot sign in: --user 'Bad Name!': string should match pattern" in result.stderr
    assert "s3cret-pass" not in result.output
    assert not (tmp_path / "tokens.json").exists()
