"""The limits on a job's environment, and which variables only TDs and admins may set."""

from __future__ import annotations

import pytest

from common.errors import InvalidEnv
from common.render_env import (
    MAX_TOTAL_BYTES,
    MAX_VALUE_CHARS,
    MAX_VARIABLES,
    check_env,
    privileged_variables,
)


def test_an_environment_at_its_limits_is_accepted() -> None:
    check_env({f"V{i}": "" for i in range(MAX_VARIABLES)})
    check_env({"A": "x" * MAX_VALUE_CHARS})
    per = MAX_TOTAL_BYTES // 4 - 2
    check_env({f"V{i}": "x" * per for i in range(4)})  # 4 * (2 + per) bytes: exactly the limit
    check_env({"CLOUDBURST_RENDER_TARGET": "beauty", "CLOUDBURST_CAMERA": "cam", "_X1": "é"})


@pytest.mark.parametrize(
    "env",
    [
        {f"V{i}": "" for i in range(MAX_VARIABLES + 1)},
        {"A": "x" * (MAX_VALUE_CHARS + 1)},
        {f"V{i}": "x" * (MAX_TOTAL_BYTES // 4 - 1) for i in range(4)},  # one byte too many
        {"A": "é" * 12_000, "B": "é" * 12_000, "C": "é" * 12_000},  # bytes count, not chars
        {"A-B": "1"},
        {"A B": "1"},
        {"Ä": "1"},
        {"A": "\x00"},
        {"cloudburst_token": "x"},
        {"CLOUDBURST_CONFIG": "/tmp/c.toml"},
    ],
)
def test_an_environment_past_its_limits_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(InvalidEnv):
        check_env(env)


def test_privileged_variables_are_named_whatever_their_case() -> None:
    env = {"OCIO": "/c", "ld_preload": "/x.so", "PYTHONPATH": "/p", "Path": "/bin",
           "TCLLIBPATH": "/t", "HOUDINI_PATHMAP": "{}", "TEXTURES": "/tex",
           "BASH_FUNC_ls%%": "() { :; }"}  # fmt: skip
    assert privileged_variables(env) == ["BASH_FUNC_ls%%", "PYTHONPATH", "Path", "TCLLIBPATH",
                                         "ld_preload"]  # fmt: skip
