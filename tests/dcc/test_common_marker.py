"""``dcc.common_problem``: the DCC shims refuse to start on someone else's ``common``."""

from __future__ import annotations

import sys
import types

import pytest

import dcc


def test_cloudburst_common_passes() -> None:
    assert dcc.common_problem() is None


def test_a_shadowing_common_package_is_named_with_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    impostor = types.ModuleType("common")
    impostor.__file__ = "/studio/pipeline/common/__init__.py"
    monkeypatch.setitem(sys.modules, "common", impostor)
    message = dcc.common_problem()
    assert message is not None
    assert "/studio/pipeline/common/__init__.py" in message and "hides Cloudburst's" in message
    assert dcc.ROOT in message and "install-dcc" in message


def test_a_missing_common_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "common", None)  # makes the import fail
    message = dcc.common_problem()
    assert message is not None and "cannot be imported" in message
