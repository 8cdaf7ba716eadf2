"""``SettingsStore``: per-scene choices in one JSON file, robust to a damaged file."""

from __future__ import annotations

import json
from pathlib import Path

from common.jobspec import PanelSettings
from common.models import Placement
from common.qt.settings_store import SettingsStore

DEFAULTS = PanelSettings(name="sh010", frames="1-24", output="/show/r/sh010_####")


def test_only_choices_that_differ_from_the_scene_are_kept(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "panel.json")
    chosen = PanelSettings(name="sh010", frames="1-24", output="/show/r/sh010_####",
                           priority=90, placement=Placement.LOCAL)  # fmt: skip
    store.save("/show/sh010.blend", chosen, DEFAULTS)
    stored = json.loads((tmp_path / "panel.json").read_text())["scenes"]["/show/sh010.blend"]
    assert stored == {"priority": 90, "placement": "local"}
    assert store.load("/show/sh010.blend", DEFAULTS) == chosen
    assert store.load("/show/other.blend", DEFAULTS) == DEFAULTS


def test_a_damaged_file_or_entry_gives_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "panel.json"
    path.write_text("{not json")
    assert SettingsStore(path).load("/s.blend", DEFAULTS) == DEFAULTS
    path.write_text(json.dumps({"scenes": {"/s.blend": {"priority": "high", "placement": "x"}}}))
    assert SettingsStore(path).load("/s.blend", DEFAULTS) == DEFAULTS
    path.write_text(json.dumps({"scenes": {"/s.blend": {"priority": "high"}}}))
    assert SettingsStore(path).load("/s.blend", DEFAULTS) == DEFAULTS


def test_saving_over_a_damaged_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "panel.json"
    path.parent.mkdir()
    path.write_text("[]")
    store = SettingsStore(path)
    store.save("/s.blend", PanelSettings(chunk_size=4), PanelSettings())
    assert store.load("/s.blend", PanelSettings()).chunk_size == 4
    assert [p.name for p in path.parent.iterdir()] == ["panel.json"]  # no temporary files left


def test_presets_keep_only_a_shows_render_choices(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "panel.json")
    store.save("/show/sh010.blend", PanelSettings(priority=70), DEFAULTS)
    chosen = PanelSettings(name="x", frames="1-5", output="/o/x_####", priority=90,
                           chunk_size=8, env={"OCIO": "/o.ocio"})  # fmt: skip
    store.save_preset("tlk", "overnight", chosen)
    assert store.preset_names("tlk") == ["overnight"] and store.preset_names("other") == []
    got = store.load_preset("tlk", "overnight", DEFAULTS)
    assert (got.priority, got.chunk_size, got.env) == (90, 8, {"OCIO": "/o.ocio"})
    assert (got.name, got.frames, got.output) == (DEFAULTS.name, DEFAULTS.frames, DEFAULTS.output)
    assert store.load("/show/sh010.blend", DEFAULTS).priority == 70  # scenes are kept beside
    store.save("/show/sh020.blend", PanelSettings(priority=10), DEFAULTS)
    assert store.preset_names("tlk") == ["overnight"]  # and presets beside scenes


def test_a_damaged_preset_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "panel.json"
    path.write_text(json.dumps({"presets": {"tlk": {"bad": {"priority": "high"},
                                                    "env": {"env": {"A": 1}}}}}))  # fmt: skip
    store = SettingsStore(path)
    assert store.load_preset("tlk", "bad", DEFAULTS) == DEFAULTS
    assert store.load_preset("tlk", "env", DEFAULTS) == DEFAULTS
    assert store.load_preset("tlk", "missing", DEFAULTS) == DEFAULTS
