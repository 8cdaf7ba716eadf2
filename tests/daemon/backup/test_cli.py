"""``cloudburst backup`` and ``cloudburst restore`` as a person types them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from daemon.backup_cli import backup_command, restore_command
from tests.daemon.backup.helpers import Farm, build_farm

ID = re.compile(r"\d{8}T\d{6}Z-(?:full|incr)-[0-9a-f]{4}")


@pytest.fixture
def farm(tmp_path: Path) -> Farm:
    return build_farm(tmp_path)


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    config = tmp_path / "studio.toml"
    config.write_text('log_level = "WARNING"\n')
    return CliRunner(env={"CLOUDBURST_CONFIG": str(config)})


def test_backup_list_verify_and_restore(farm: Farm, runner: CliRunner, tmp_path: Path) -> None:
    to = ["--data-dir", str(farm.data_dir), "--to", str(tmp_path / "backups")]
    full = runner.invoke(backup_command, [*to, "--full"])
    assert full.exit_code == 0, full.output
    assert "Backed up:" in full.output and " full " in full.output
    incremental = runner.invoke(backup_command, [*to, "--incremental"])
    assert incremental.exit_code == 0, incremental.output
    assert "incremental on " + ID.findall(full.output)[0] in incremental.output

    listing = runner.invoke(backup_command, [*to, "--list"])
    assert listing.exit_code == 0 and "2 backup(s)." in listing.output
    assert len(ID.findall(listing.output)) == 3  # two ids, and the incremental's base
    verified = runner.invoke(backup_command, [*to, "--verify"])
    assert verified.exit_code == 0 and "is sound" in verified.output

    new = tmp_path / "restored"
    restored = runner.invoke(restore_command, ["--from", str(tmp_path / "backups"),
                                               "--data-dir", str(new)])  # fmt: skip
    assert restored.exit_code == 0, restored.output
    assert "Restored backup" in restored.output and "--data-dir" in restored.output
    assert (new / "config.toml").read_text() == 'log_level = "WARNING"\n'
    assert "config.toml" in restored.output

    again = runner.invoke(restore_command, ["--from", str(tmp_path / "backups"),
                                            "--data-dir", str(new)])  # fmt: skip
    assert again.exit_code == 1
    assert "not an empty folder" in again.output and "nothing was changed" in again.output


def test_prune_applies_the_configured_retention(
    farm: Farm, runner: CliRunner, tmp_path: Path
) -> None:
    runner.env.update({"CLOUDBURST_BACKUP__KEEP_DAILY": "1", "CLOUDBURST_BACKUP__KEEP_WEEKLY": "0",
                       "CLOUDBURST_BACKUP__DESTINATION": str(tmp_path / "backups")})  # fmt: skip
    first = runner.invoke(backup_command, ["--data-dir", str(farm.data_dir), "--full"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(backup_command, ["--data-dir", str(farm.data_dir), "--full",
                                            "--prune"])  # fmt: skip
    assert second.exit_code == 0, second.output
    assert f"Pruned {ID.findall(first.output)[0]}." in second.output
    listing = runner.invoke(backup_command, ["--list"])
    assert "1 backup(s)." in listing.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--to", "ftp://host/backups"], "neither a folder nor an object store"),
        (["--to", "s3://ab/x"], "names no usable bucket"),
        (["--list"], "no backup destination"),
        (["--verify", "nope", "--to", "{tmp}/backups"], "not a backup id"),
    ],
)
def test_bad_requests_say_what_to_do(
    farm: Farm, runner: CliRunner, tmp_path: Path, args: list[str], says: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(backup_command, ["--data-dir", str(farm.data_dir), *args])
    assert result.exit_code == 1
    assert says in result.output
    assert not (tmp_path / "backups").exists()
