"""Stand-in host modules (``tests/stubs``) for Maya, Houdini and Nuke, used only when the real
ones are missing.

The stand-ins go at the end of ``sys.path``, so a real ``maya``, ``hou`` or ``nuke`` found
earlier wins; ``host_stubs`` says which host is a stand-in. The scene fixtures start each test
from an empty scene of the stand-in, and skip when the real host is here (their scenes are
loaded through stand-in calls).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import SHARED

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication

STUBS = Path(__file__).resolve().parents[1] / "stubs"
SCENES = SHARED / "scenes"
HOSTS = ("maya", "hou", "nuke")

#: Which host modules exist for real, looked up before the stand-ins join ``sys.path``.
REAL_HOSTS = {name: importlib.util.find_spec(name) is not None for name in HOSTS}


def install_stubs() -> dict[str, bool]:
    """Puts the stand-ins on ``sys.path`` (last); returns which hosts are stand-ins."""
    if not all(REAL_HOSTS.values()) and str(STUBS) not in sys.path:
        sys.path.append(str(STUBS))
    return {name: not REAL_HOSTS[name] for name in HOSTS}


def scenes(kind: str) -> Path:
    """``../shared/scenes/<kind>``, or a skip saying why it is not there."""
    folder = SCENES / kind
    if not folder.is_dir():
        pytest.skip(f"the real test scenes are not here ({folder} is missing)")
    return folder


@pytest.fixture(scope="session")
def host_stubs() -> dict[str, bool]:
    return install_stubs()


def _stand_in(name: str, stubs: dict[str, bool]) -> ModuleType:
    if not stubs[name]:
        pytest.skip(f"the real {name} module is installed; these tests drive its stand-in")
    return importlib.import_module(name)


@pytest.fixture
def maya_host(host_stubs: dict[str, bool]) -> Iterator[ModuleType]:
    """The ``maya`` stand-in with an empty scene."""
    module = _stand_in("maya", host_stubs)
    module.new_scene()
    yield module
    module.new_scene()


@pytest.fixture
def hou_host(host_stubs: dict[str, bool]) -> Iterator[ModuleType]:
    """The ``hou`` stand-in with an empty scene."""
    module = _stand_in("hou", host_stubs)
    module.new_scene()
    yield module
    module.new_scene()


@pytest.fixture
def nuke_host(host_stubs: dict[str, bool]) -> Iterator[ModuleType]:
    """The ``nuke`` stand-in with an empty script."""
    module = _stand_in("nuke", host_stubs)
    module.new_script()
    yield module
    module.new_script()


@pytest.fixture
def panel_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[object]]:
    """An isolated home for the panel (its settings), a daemon address nobody answers, and
    the dialogs the shims open (closed at the end)."""
    from common.qt import dialog

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("CLOUDBURST_DAEMON_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("CLOUDBURST_CONFIG", raising=False)
    opened = dialog._OPEN
    yield opened
    for window in list(opened):
        window.close()
