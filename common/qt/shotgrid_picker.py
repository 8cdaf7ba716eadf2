"""The panel's ShotGrid project, shot (or asset) and task boxes as pick-lists filled from the
daemon.

The job's fields keep their three text boxes (``JobExtras.sg_project`` and friends); once the
daemon says it has a ShotGrid site, each box becomes the text field of an editable combo box
offering the daemon's projects, the chosen project's shots (or its assets, when the Shot/Asset
menu says Asset) and the chosen shot's or asset's tasks. The artist may still type any code:
the daemon checks the link at submission. Lists are asked for only when the text names a listed
project, shot or asset (never per keystroke), off the UI thread; without ShotGrid, or when the
daemon cannot be asked, the boxes stay plain and a line says why. The shot or asset chosen from
its list is told to ``entity_changed``: the panel's "After job" then offers its previous jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QWidget

from common.client import DaemonClient
from common.models import LinkedEntity, ShotGridChoices, ShotGridStatus
from common.qt.workers import Call, describe_error, start_call

NO_SITE = (
    "This daemon has no ShotGrid site: type the project, shot (or asset) and task codes, or leave "
    "them empty."
)

#: A shot or asset chosen from its list: its type and id.
Chosen = tuple[LinkedEntity, int]


class ShotGridPicker:
    """Turns the ShotGrid boxes of ``extras`` into pick-lists; UI thread only."""

    def __init__(
        self,
        client: DaemonClient,
        pool: QThreadPool,
        extras: Any,
        entity_changed: Callable[[Chosen | None], None] | None = None,
    ) -> None:
        self.client = client
        self.pool = pool
        self.edits: tuple[QLineEdit, QLineEdit, QLineEdit] = (
            extras.sg_project, extras.sg_shot, extras.sg_task,
        )  # fmt: skip
        self.owner: QWidget = extras
        self.kind: QComboBox = extras.sg_kind
        self.note = QLabel("")
        self.note.setObjectName("shotgridNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.hide()
        _add_below(extras.layout(), self.edits[0], self.note)
        self.combos: tuple[QComboBox, QComboBox, QComboBox] | None = None
        self.entity_ids: dict[str, int] = {}
        """The listed shots' (or assets') ids by code."""
        self.chosen: Chosen | None = None
        """The shot or asset the second box names, when it names a listed one."""
        self._entity_changed = entity_changed
        self._calls: dict[str, Call] = {}

    # --- what the panel calls ---------------------------------------------------------------

    def refresh(self, *_: object) -> None:
        """Asks the daemon whether it has ShotGrid, then for its projects."""
        self._start("status", self.client.shotgrid_status, self._status)

    def stop(self) -> None:
        for call in self._calls.values():
            call.cancel()
        self._calls.clear()

    # --- answers ------------------------------------------------------------------------------

    def _status(self, status: ShotGridStatus) -> None:
        if not status.configured:
            self._say(NO_SITE)
            return
        self._install()
        self._start("projects", self.client.shotgrid_projects, self._fill(0))

    def _project_typed(self, text: str) -> None:
        assert self.combos is not None
        self._clear(1)
        if _listed(self.combos[0], text):
            kind = self._kind()
            list_ = self.client.shotgrid_assets if kind == "Asset" else self.client.shotgrid_shots
            self._start("entities", lambda: list_(text), self._entities)

    def _entity_typed(self, text: str) -> None:
        assert self.combos is not None
        self._clear(2)
        project = self.edits[0].text().strip()
        kind = self._kind()
        entity_id = self.entity_ids.get(text) if _listed(self.combos[1], text) else None
        self._choose(None if entity_id is None else (kind, entity_id))
        if entity_id is not None:
            self._start(
                "tasks",
                lambda: self.client.shotgrid_tasks(project, entity_id, kind),
                self._fill(2),
            )

    def _kind(self) -> LinkedEntity:
        return "Asset" if self.kind.currentData() == "Asset" else "Shot"

    def _kind_changed(self) -> None:
        """Shot or asset: the second box lists the project's other kind of entity."""
        self._project_typed(self.edits[0].text().strip())

    def _choose(self, chosen: Chosen | None) -> None:
        if chosen != self.chosen:
            self.chosen = chosen
            if self._entity_changed is not None:
                self._entity_changed(chosen)

    def _entities(self, choices: ShotGridChoices) -> None:
        self.entity_ids = {entry.name: entry.id for entry in choices.items}
        self._fill(1)(choices)

    def _fill(self, box: int) -> Callable[[ShotGridChoices], None]:
        def fill(choices: ShotGridChoices) -> None:
            assert self.combos is not None
            combo, edit = self.combos[box], self.edits[box]
            with _quiet(combo, edit):  # the artist's text stays, listed or not
                combo.addItems([entry.name for entry in choices.items])
            more = " (the first ones only: type the rest)" if choices.truncated else ""
            self._say(f"ShotGrid lists from the daemon{more}." if more else "")
            if box == 0:
                self._project_typed(edit.text().strip())
            elif box == 1:
                self._entity_typed(edit.text().strip())

        return fill

    def _failed(self, exc: BaseException) -> None:
        self._say(f"ShotGrid lists unavailable ({describe_error(exc)}); type the codes.")

    # --- plumbing -----------------------------------------------------------------------------

    def _install(self) -> None:
        """Puts each text box inside an editable combo box, in the box's place."""
        if self.combos is not None:
            return
        layout = self.owner.layout()
        assert layout is not None  # the job's fields are laid out when the panel is built
        combos = []
        for edit in self.edits:
            combo = QComboBox()
            combo.setObjectName(f"{edit.objectName()}Choices")
            combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            combo.setEditable(True)
            layout.replaceWidget(edit, combo)
            placeholder = edit.placeholderText()
            with _quiet(combo, edit):
                combo.setLineEdit(edit)  # the job's field reads and writes this same box
            edit.setPlaceholderText(placeholder)
            combos.append(combo)
        self.combos = (combos[0], combos[1], combos[2])
        self.edits[0].textChanged.connect(lambda t: self._project_typed(t.strip()))
        self.edits[1].textChanged.connect(lambda t: self._entity_typed(t.strip()))
        self.kind.currentIndexChanged.connect(self._kind_changed)

    def _clear(self, box: int) -> None:
        """Empties the lists from ``box`` on (their choices belong to the box above)."""
        assert self.combos is not None
        for index in range(box, 3):
            with _quiet(self.combos[index], self.edits[index]):
                pass  # emptied, the text kept
            self._cancel({1: "entities", 2: "tasks"}.get(index, ""))
        if box <= 1:
            self.entity_ids = {}
            self._choose(None)

    def _start(self, name: str, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self._cancel(name)

        def finished(result: Any) -> None:
            self._calls.pop(name, None)
            done(result)

        def failed(exc: BaseException) -> None:
            self._calls.pop(name, None)
            self._failed(exc)

        self._calls[name] = start_call(self.pool, fn, finished, failed, f"shotgrid {name}")

    def _cancel(self, name: str) -> None:
        call = self._calls.pop(name, None)
        if call is not None:
            call.cancel()

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))


@contextmanager
def _quiet(combo: QComboBox, edit: QLineEdit) -> Iterator[None]:
    """Empties ``combo``'s list for the body to refill, keeping ``edit``'s text, with neither
    box signalling (the job's fields see no change)."""
    text = edit.text()
    combo.blockSignals(True)
    edit.blockSignals(True)
    try:
        combo.clear()
        yield
        combo.setCurrentIndex(-1)
        edit.setText(text)
    finally:
        combo.blockSignals(False)
        edit.blockSignals(False)


def _listed(combo: QComboBox, text: str) -> bool:
    return bool(text) and combo.findText(text) >= 0


def _add_below(form: Any, field: QWidget, note: QLabel) -> None:
    """Adds ``note`` as the row after the one holding ``field`` in the form ``form``."""
    if not isinstance(form, QFormLayout):
        return
    for row in range(form.rowCount()):
        item = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        inner = item.layout() if item is not None else None
        if item is not None and (item.widget() is field or (inner and inner.indexOf(field) >= 0)):
            form.insertRow(row + 1, "", note)
            return
    form.addRow("", note)
