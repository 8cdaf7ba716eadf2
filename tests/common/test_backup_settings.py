"""The ``[backup]`` table from the file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.config import load_settings
from common.errors import ConfigError


def test_the_seed_policy_is_the_default() -> None:
    backup = load_settings(env={}).backup
    assert backup.destination == "" and backup.time == "02:00" and backup.full_day == "sunday"
    assert (backup.keep_daily, backup.keep_weekly) == (7, 4)


def test_the_backup_table_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[backup]\ndestination = "s3://farm-backups/daily"\ntime = "03:30"\n'
                    'timezone = "Europe/Paris"\nfull_day = "saturday"\n')  # fmt: skip
    env = {
        "CLOUDBURST_CONFIG": str(path),
        "CLOUDBURST_BACKUP__KEEP_DAILY": "14",
        "CLOUDBURST_BACKUP__STORE": '{"endpoint": "http://127.0.0.1:8333", "region": "eu"}',
    }
    settings = load_settings(env=env)
    backup = settings.backup
    assert backup.hour_minute == (3, 30) and backup.full_weekday == 5
    assert backup.keep_daily == 14 and backup.timezone == "Europe/Paris"
    assert backup.store is not None
    assert (backup.store.endpoint, backup.store.region) == ("http://127.0.0.1:8333", "eu")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("TIME", "25:00", "not a time of day"),
        ("TIME", "2am", "not a time of day"),
        ("TIMEZONE", "Mars/Olympus", "not a time zone"),
        ("FULL_DAY", "someday", "full_day"),
        ("KEEP_DAILY", "0", "keep_daily"),
    ],
)
def test_bad_backup_settings_are_refused(variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        load_settings(env={f"CLOUDBURST_BACKUP__{variable}": value})
