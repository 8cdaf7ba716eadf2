"""``cloudburst jobs --name --sort --order``: a listing searched and sorted by the daemon, read
over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from common.cli.context import CliState
from common.cli.main import cli
from tests.cli_isolation import invoke_served, no_user_config  # noqa: F401 (autouse)


def _names(url: str, token: str, *args: str) -> list[str]:
    result = invoke_served(["jobs", *args, "--json"], url, token)
    assert result.exit_code == 0, result.output
    return [item["name"] for item in json.loads(result.output)["items"]]


def _submit(url: str, token: str, folder: Path, name: str, *args: str) -> None:
    """Submits a one-frame job ``name`` of a scene in ``folder`` with ``cloudburst submit``."""
    scene = folder / "sh010.blend"
    scene.write_bytes(b"BLENDER")
    submit = ["submit", str(scene), "-f", "1", "--name", name, *args, "--no-preflight", "--json"]
    result = invoke_served(submit, url, token)
    assert result.exit_code == 0, result.output


def test_jobs_are_searched_by_name_and_sorted(
    live_url: str, admin_token: str, tmp_path: Path
) -> None:
    for name, priority in [("SH010 comp", "30"), ("sh020 light", "90"), ("bg paint", "60")]:
        _submit(live_url, admin_token, tmp_path, name, "--priority", priority)

    assert _names(live_url, admin_token) == ["bg paint", "sh020 light", "SH010 comp"]  # newest
    assert _names(live_url, admin_token, "--name", "sh0", "--sort", "name") == [
        "SH010 comp", "sh020 light",
    ]  # fmt: skip
    by_priority = _names(live_url, admin_token, "--sort", "priority", "--order", "asc")
    assert by_priority == ["SH010 comp", "bg paint", "sh020 light"]
    assert _names(live_url, admin_token, "--sort", "rank")[0] == "sh020 light"  # rank 1


def test_an_unknown_sort_is_refused_before_any_network() -> None:
    result = CliRunner().invoke(cli, ["jobs", "--sort", "colour"], obj=CliState(client=object()))
    assert result.exit_code == 2
    assert "--sort" in result.output


def test_jobs_of_one_shotgrid_shot_or_asset(
    live_url: str, admin_token: str, tmp_path: Path
) -> None:
    for name, shot in [("sh010 v1", "10"), ("sh020 v1", "20"), ("sh010 v2", "10")]:
        _submit(live_url, admin_token, tmp_path, name, "--sg-shot-id", shot)

    _submit(live_url, admin_token, tmp_path, "chair v1", "--sg-asset-id", "10")

    assert _names(live_url, admin_token, "--shot", "10") == ["sh010 v2", "sh010 v1"]
    assert _names(live_url, admin_token, "--shot", "20") == ["sh020 v1"]
    assert _names(live_url, admin_token, "--asset", "10") == ["chair v1"]  # asset 10, no shot


def test_a_shot_id_below_one_is_refused_before_any_network() -> None:
    result = CliRunner().invoke(cli, ["jobs", "--shot", "0"], obj=CliState(client=object()))
    assert result.exit_code == 2
    assert "--shot" in result.output
