"""What every ``HostAdapter`` is asked, as plain data: the contract test compares the four hosts
on it, and the golden ``expected_job.json`` files pin the job each one submits.

``describe(adapter)`` runs in the test process for the stand-in hosts and inside a Blender
process (``contract_probe.py``) for Blender, so the same questions are asked the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from common.host import HostAdapter
from common.jobspec import build_job_spec, defaults_for

#: The owner the golden jobs are submitted as.
OWNER = "artist"


def describe(adapter: Any) -> dict[str, Any]:
    """The adapter's answers to every ``HostAdapter`` question, and the job it would submit."""
    info = adapter.scene_info()
    assets = adapter.collect_assets()
    spec = build_job_spec(info, defaults_for(info), owner=OWNER, assets=assets)
    path = adapter.scene_path()
    return {
        "protocol": isinstance(adapter, HostAdapter),
        "dcc": adapter.dcc,
        "scene_path": str(path) if path is not None else None,
        "dirty": adapter.is_dirty(),
        "main_window": type(adapter.main_window()).__name__,
        "extra_widget": type(adapter.extra_widget(None)).__name__,
        "info": dataclasses.asdict(info),
        "assets": [dataclasses.asdict(asset) for asset in assets],
        "job": spec.model_dump(mode="json"),
    }


def normalized(value: Any, replacements: dict[str, str]) -> Any:
    """``value`` with machine-specific folders replaced by placeholders (``<scenes>``)."""
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: normalized(v, replacements) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalized(v, replacements) for v in value]
    return value
