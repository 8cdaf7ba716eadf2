"""``cloudburst job why``, ``job pin`` and the ShotGrid options of ``submit``, on a real daemon."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result

from tests.cli_isolation import invoke_served, no_user_config  # noqa: F401 (autouse)


def invoke(args: list[str], url: str, token: str) -> Result:
    return invoke_served(args, url, token)


def test_why_pin_and_shotgrid_ids(live_url: str, admin_token: str, tmp_path: Path) -> None:
    scene = tmp_path / "sh010.blend"
    scene.write_bytes(b"BLENDER")  # not a real .blend: submitted with --no-preflight
    first = invoke(
        ["submit", str(scene), "--frames", "1-4", "--priority", "80", "--json", "--no-preflight"],
        live_url,
        admin_token,
    )
    assert first.exit_code == 0, first.output
    linked = invoke(
        ["submit", str(scene), "--frames", "1-4", "--priority", "10", "--sg-task-id", "42",
         "--json", "--no-preflight"],
        live_url,
        admin_token,
    )  # fmt: skip
    assert linked.exit_code == 0, linked.output
    job = json.loads(linked.output)
    assert job["spec"]["shotgrid"]["task_id"] == 42
    assert job["rank"] == 2

    why = invoke(["job", "why", str(job["id"])], live_url, admin_token)
    assert why.exit_code == 0, why.output
    assert "Rank 2 of 2: " in why.output
    assert "artist priority 10" in why.output
    assert "fair share" in why.output and "Weight" in why.output

    pinned = invoke(["job", "pin", str(job["id"]), "--note", "review"], live_url, admin_token)
    assert pinned.exit_code == 0, pinned.output
    assert f"Job {job['id']} pinned. Rank 1 of 2: pinned to the top by admin" in pinned.output
    show = invoke(["job", "show", str(job["id"])], live_url, admin_token)
    assert "task 42" in show.output and "Rank 1 of 2" in show.output

    bad = invoke(
        ["submit", str(scene), "--frames", "1", "--sg-task", "comp", "--no-preflight"],
        live_url,
        admin_token,
    )
    assert bad.exit_code == 1
    assert "is named within its shot" in bad.output
