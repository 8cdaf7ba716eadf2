"""``cloudburst queue``: the queue in the order tasks are handed out, with each rank's reason,
read from a real daemon over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from common.cli.context import CliState
from common.cli.main import cli
from tests.cli_isolation import invoke_served, no_user_config  # noqa: F401 (autouse)


def invoke(args: list[str], url: str, token: str) -> Result:
    return invoke_served(args, url, token, columns=250)


def submit(url: str, token: str, scene: Path, name: str, priority: int) -> int:
    result = invoke(["submit", str(scene), "-f", "1-4", "--name", name, "--priority",
                     str(priority), "--no-preflight", "--json"], url, token)  # fmt: skip
    assert result.exit_code == 0, result.output
    job_id: int = json.loads(result.output)["id"]
    return job_id


def test_queue_lists_jobs_in_order_with_reasons(
    live_url: str, admin_token: str, tmp_path: Path
) -> None:
    scene = tmp_path / "sh010.blend"
    scene.write_bytes(b"BLENDER")
    high = submit(live_url, admin_token, scene, "hero_high", 90)
    low = submit(live_url, admin_token, scene, "bg_low", 5)

    table = invoke(["queue"], live_url, admin_token)
    assert table.exit_code == 0, table.output
    assert table.output.index("hero_high") < table.output.index("bg_low")
    assert "artist priority 90" in table.output
    assert "queue positions 1-2 of 2" in table.output

    pinned = invoke(["job", "pin", str(low), "--note", "client review"], live_url, admin_token)
    assert pinned.exit_code == 0, pinned.output
    page = json.loads(invoke(["queue", "--json"], live_url, admin_token).output)
    assert [item["job_id"] for item in page["items"]] == [low, high]
    assert page["items"][0]["pinned_by"] == "admin"

    second = invoke(["queue", "--offset", "1", "--limit", "1"], live_url, admin_token)
    assert second.exit_code == 0, second.output
    assert "hero_high" in second.output and "bg_low" not in second.output
    assert "queue positions 2-2 of 2" in second.output


def test_queue_limit_is_checked_before_any_network() -> None:
    result = CliRunner().invoke(cli, ["queue", "--limit", "501"], obj=CliState(client=object()))
    assert result.exit_code == 2
    assert "--limit" in result.output
