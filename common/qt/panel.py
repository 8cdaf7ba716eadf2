"""``SubmitPanel``: the one submit panel every DCC shows.

The panel reads the scene through a ``HostAdapter`` (on the UI thread, as hosts require),
builds the job with ``common.jobspec`` and talks only to the daemon, through ``DaemonClient``
calls that run on a thread pool (``workers.start_call``) so the host never freezes. While a
call runs the panel shows a busy bar and a Cancel button; a daemon error is shown verbatim.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from common.client import DaemonClient, new_idempotency_key
from common.config import Settings, load_settings
from common.credentials import SignedIn, default_credentials
from common.errors import CloudburstError, ConfigError, InvalidInput
from common.frames import chunk_frames, parse_frames
from common.host import Asset, HostAdapter, SceneInfo
from common.jobspec import (
    PanelSettings,
    Problem,
    Severity,
    build_job_spec,
    defaults_for,
    preflight,
    scene_frames,
)
from common.models import Job, JobSummary
from common.qt.account import AccountBar
from common.qt.app import marker_problem
from common.qt.dependency_list import DependencyList
from common.qt.form import ERROR_STYLE, JobForm
from common.qt.preflight_view import PreflightView
from common.qt.presets import PresetBar
from common.qt.recent_jobs import RecentJobs
from common.qt.settings_store import SettingsStore
from common.qt.shotgrid_picker import ShotGridPicker
from common.qt.workers import Call, describe_error, start_call
from common.token_store import TokenStore

logger = logging.getLogger(__name__)

RECENT_JOBS = 10
PREVIOUS_JOBS = 30
"""The show's jobs "After job" offers, newest first."""
MISSING_FILES = "missing_files"
"""The pre-flight problem an artist may submit past, once the missing files are named."""
NAMED_MISSING = 20
STYLE_SHEET = """
QLabel#title { font-size: 16pt; font-weight: 600; }
QLabel#facts { color: palette(placeholder-text); }
QLabel#banner { background: #5a1f1f; color: #ffdede; padding: 6px; border-radius: 3px; }
QLineEdit[invalid="true"] { border: 1px solid #ff6b6b; }
QPushButton#submit { padding: 5px 18px; font-weight: 600; }
QGroupBox { font-weight: 600; }
"""


class SubmitPanel(QWidget):
    """The job form, pre-flight check, dependencies, recent jobs and Submit.

    Every method runs on the UI thread; daemon calls run on ``pool`` threads and report back
    through queued signals.

    Signals:
        submitted(Job): a job was accepted by the daemon.
    """

    submitted = Signal(object)

    def __init__(
        self,
        adapter: HostAdapter,
        *,
        client: DaemonClient | None = None,
        config: Settings | None = None,
        store: SettingsStore | None = None,
        tokens: TokenStore | None = None,
        pool: QThreadPool | None = None,
        poll_interval_ms: int = 2000,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.adapter = adapter
        self.owner: str | None = None
        """The signed-in account (the daemon makes it the owner); None while nobody is."""
        self._startup_errors: list[str] = []
        if (problem := marker_problem()) is not None:
            self._startup_errors.append(problem)
        if config is None:
            try:
                config = load_settings()
            except ConfigError as exc:
                self._startup_errors.append(exc.message)
                config = Settings()
        self.config = config
        self.client = client or DaemonClient(
            config.daemon_url, timeout=config.request_timeout_s, retries=1,
            auth=default_credentials(config, tokens),
        )  # fmt: skip
        credentials = self.client.auth
        self.store = store or SettingsStore()
        self.pool = pool or QThreadPool(self)
        self.info: SceneInfo | None = None
        self.assets: list[Asset] = []
        self.dirty = False
        self.defaults = PanelSettings()
        self.daemon_ok: bool | None = None
        self.problems: list[Problem] = []
        self.last_job: Job | None = None
        self.busy = False
        self._call: Call | None = None
        self._health: Call | None = None
        self.confirm: Callable[[str, str], bool] = self._ask
        """Asks the artist a yes/no question (title, text); tests put their own answer."""

        signed_in = credentials if isinstance(credentials, SignedIn) else None
        self.account = AccountBar(self.client, signed_in, self.pool)
        self._build(poll_interval_ms)
        self.shotgrid = ShotGridPicker(
            self.client, self.pool, self.form.extras, lambda _: self._list_previous_jobs()
        )
        self.account.changed.connect(self.shotgrid.refresh)
        self.shotgrid.refresh()
        self.refresh_scene()
        self.check_daemon()
        self.account.check()
        self.recent.start()

    # --- layout ------------------------------------------------------------------------------

    def _build(self, poll_interval_ms: int) -> None:
        self.setObjectName("cloudburstSubmitPanel")
        self.setStyleSheet(STYLE_SHEET)
        self.title = QLabel("Submit to Cloudburst")
        self.title.setObjectName("title")
        self.daemon_label = QLabel()
        self.daemon_label.setObjectName("daemonState")
        self.facts = QLabel()
        self.facts.setObjectName("facts")
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.form = JobForm()
        self.presets = PresetBar(self.store, self.form.settings)
        self.preflight_view = PreflightView()
        self.dependencies = DependencyList()
        self.recent = RecentJobs(self._fetch_recent, self.pool, poll_interval_ms)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dependencies, "Dependencies")
        self.tabs.addTab(self.recent, "Recent jobs")

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.hide()
        self.status = QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read the scene and its files again")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.hide()
        self.submit_button = QPushButton("Submit")
        self.submit_button.setObjectName("submit")
        self.submit_button.setDefault(True)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.daemon_label)
        job_box = QGroupBox("Job")
        QVBoxLayout(job_box).addWidget(self.form)
        more_box = QGroupBox("Schedule, tracking and notes")
        more_layout = QVBoxLayout(more_box)
        more_layout.addWidget(self.presets)
        more_layout.addWidget(self.form.extras)
        production_box = QGroupBox("Nodes, limits and dependencies")
        QVBoxLayout(production_box).addWidget(self.form.production)
        check_box = QGroupBox("Pre-flight check")
        QVBoxLayout(check_box).addWidget(self.preflight_view)
        footer = QHBoxLayout()
        footer.addWidget(self.busy_bar)
        footer.addWidget(self.status, 1)
        footer.addWidget(self.refresh_button)
        footer.addWidget(self.cancel_button)
        footer.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.account)
        layout.addWidget(self.facts)
        layout.addWidget(self.banner)
        layout.addWidget(job_box)
        layout.addWidget(more_box)
        layout.addWidget(production_box)
        layout.addWidget(check_box)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(footer)

        self.form.changed.connect(self.update_preflight)
        self.form.project.editingFinished.connect(self._show_changed)
        self.presets.applied.connect(self._apply_preset)
        self.account.changed.connect(self._account_changed)
        self.preflight_view.action_requested.connect(self._on_action)
        self.submit_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.cancel)
        self.refresh_button.clicked.connect(lambda: self.refresh_scene(keep_form=True))

    # --- the scene -----------------------------------------------------------------------

    def refresh_scene(self, keep_form: bool = False) -> None:
        """Reads the scene's facts, unsaved state and dependencies from the host.

        Runs on the UI thread (host APIs demand it).

        Args:
            keep_form: keep what the form shows (after a save or Refresh); otherwise the
                form shows the scene's stored choices over its defaults.
        """
        errors = list(self._startup_errors)
        try:
            info = self.adapter.scene_info()
            dirty = self.adapter.is_dirty()
        except Exception as exc:
            self._show_banner([*errors, self._describe(exc, "Cannot read the scene")])
            self.submit_button.setEnabled(False)
            return
        try:
            assets = self.adapter.collect_assets()
        except Exception as exc:
            errors.append(self._describe(exc, "Cannot list the scene's files"))
            assets = []
        current = self.form.settings() if keep_form and self.info is not None else None
        self.info, self.dirty, self.assets = info, dirty, list(assets)
        self.defaults = defaults_for(info)
        if current is None:
            current = (
                self.store.load(info.scene_path, self.defaults)
                if info.scene_path
                else self.defaults
            )
        self.form.load(info, current)
        self.presets.set_show(current.project)
        self.dependencies.set_assets(self.assets)
        missing = sum(not a.exists for a in self.assets)
        self.tabs.setTabText(
            0, f"Dependencies ({len(self.assets)}{f', {missing} missing' if missing else ''})"
        )
        self._show_facts(info)
        self._show_banner(errors)
        self.update_preflight()

    def project_root(self) -> str | None:
        """The folder outputs belong under: the host's project, else the scene's folder."""
        if self.info is None:
            return None
        root = self.info.extra.get("project_root") if self.info.extra else None
        if root:
            return str(root)
        return os.path.dirname(self.info.scene_path) or None

    def _show_facts(self, info: SceneInfo) -> None:
        parts = [info.dcc.capitalize()]
        if info.renderer:
            parts.append(info.renderer)
        if info.resolution[0] and info.resolution[1]:
            parts.append(f"{info.resolution[0]}\N{MULTIPLICATION SIGN}{info.resolution[1]}")
        parts.append(f"{info.fps:g} fps")
        parts.append(f"frames {scene_frames(info)}")
        scene = info.scene_path or "untitled (never saved)"
        unsaved = " \N{EM DASH} unsaved changes" if self.dirty else ""
        separator = " \N{MIDDLE DOT} "
        self.facts.setText(f"{separator.join(parts)}\n{scene}{unsaved}")

    def _show_banner(self, errors: list[str]) -> None:
        self.banner.setText("\n".join(errors))
        self.banner.setVisible(bool(errors))

    # --- pre-flight ------------------------------------------------------------------------

    def update_preflight(self) -> None:
        """Runs the pre-flight check on the form as it is and enables Submit accordingly."""
        if self.info is None:
            return
        settings = self.form.settings()
        self.problems = preflight(
            self.info,
            settings,
            self.assets,
            project_root=self.project_root(),
            daemon_ok=self.daemon_ok,
            dirty=self.dirty,
            daemon_url=self.config.daemon_url,
        )
        self.preflight_view.set_problems(self.problems, self._ready_text(settings))
        self._update_buttons()

    def has_errors(self) -> bool:
        """Whether a pre-flight error (or a bad frame range) blocks Submit.

        Missing files do not: Submit asks first, naming them (a render may not read a missing
        sim cache), and the artist may submit anyway.
        """
        return not self.form.frames_valid or any(
            p.severity is Severity.ERROR and p.code != MISSING_FILES for p in self.problems
        )

    def missing_files(self) -> list[str]:
        """The paths of the scene's files that are missing (whole files, then sequence gaps)."""
        names: list[str] = []
        for asset in self.assets:
            if not asset.exists:
                names.append(asset.path)
            names.extend(asset.missing_files)
        return names

    def _submit_anyway(self) -> bool:
        """Asks whether to submit although files are missing, naming them; True to go on."""
        missing = self.missing_files()
        if not missing or not any(p.code == MISSING_FILES for p in self.problems):
            return True
        shown = "\n".join(missing[:NAMED_MISSING])
        more = len(missing) - NAMED_MISSING
        tail = f"\n...and {more} more (listed under Dependencies)" if more > 0 else ""
        noun = "file is" if len(missing) == 1 else "files are"
        return self.confirm(
            "Submit with missing files?",
            f"{len(missing)} {noun} missing:\n{shown}{tail}\n\nFrames that read "
            f"{'it' if len(missing) == 1 else 'them'} will render wrong. Submit anyway?",
        )

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ready_text(self, settings: PanelSettings) -> str:
        if self.info is None:
            return "Ready to submit."
        try:
            frames = parse_frames(settings.frames or scene_frames(self.info))
        except CloudburstError:
            return "Ready to submit."
        tasks = len(chunk_frames(frames, max(1, settings.chunk_size)))
        return f"Ready: {len(frames):,} frames in {tasks:,} tasks, to {self.config.daemon_url}."

    def _update_buttons(self) -> None:
        self.submit_button.setEnabled(
            not self.busy
            and self.info is not None
            and self.owner is not None
            and not self.has_errors()
        )
        self.refresh_button.setEnabled(not self.busy)
        self.form.setEnabled(not self.busy)
        self.form.extras.setEnabled(not self.busy)
        self.form.production.setEnabled(not self.busy)

    def _apply_preset(self, settings: PanelSettings) -> None:
        if self.info is not None:
            self.form.load(self.info, settings)

    def _on_action(self, action: str) -> None:
        if action == "save":
            try:
                self.adapter.save()
            except Exception as exc:
                self._show_error(exc, "The scene could not be saved")
                return
            self.refresh_scene(keep_form=True)
        elif action == "check_daemon":
            self.check_daemon()

    # --- the daemon ------------------------------------------------------------------------

    def check_daemon(self) -> None:
        """Asks the daemon for its health off the UI thread; the pre-flight follows."""
        if self._health is not None and not self._health.done.is_set():
            return
        self.daemon_label.setText(f"\N{BLACK CIRCLE} checking {self.config.daemon_url}")
        self.daemon_label.setStyleSheet("color: palette(placeholder-text);")
        self._health = start_call(
            self.pool, self.client.health, self._daemon_answered, self._daemon_silent, "health"
        )

    def _daemon_answered(self, _health: Any) -> None:
        self._set_daemon_ok(True)

    def _daemon_silent(self, exc: BaseException) -> None:
        logger.info("daemon health check failed: %s", exc)
        self._set_daemon_ok(False)

    def _set_daemon_ok(self, ok: bool) -> None:
        self.daemon_ok = ok
        color, word = ("#6fcf7f", "connected") if ok else ("#ff6b6b", "not answering")
        self.daemon_label.setText(f"\N{BLACK CIRCLE} daemon {word}")
        self.daemon_label.setToolTip(self.config.daemon_url)
        self.daemon_label.setStyleSheet(f"color: {color};")
        self.update_preflight()

    def submit(self) -> None:
        """Builds the job and sends it off the UI thread; no-op while invalid or busy."""
        if self.busy or self.info is None:
            return
        self.update_preflight()
        if self.has_errors() or not self._submit_anyway():
            return
        try:
            spec = build_job_spec(self.info, self.form.settings())  # the daemon sets the owner
        except InvalidInput as exc:
            self._show_error(exc)
            return
        self._set_busy(f"Submitting {spec.name!r} to {self.config.daemon_url}...")
        key = new_idempotency_key()  # one per click; the client's retries resend it
        self._call = start_call(
            self.pool, lambda: self.client.submit(spec, key), self._submitted, self._failed,
            "submit",
        )  # fmt: skip

    def cancel(self) -> None:
        """Stops waiting for the daemon call in flight."""
        if self._call is None:
            return
        self._call.cancel()
        self._call = None
        self._set_busy(None)
        self._set_status(
            "Cancelled. If the daemon had already received the job, it shows under Recent jobs."
        )

    def _submitted(self, job: Job) -> None:
        self._call = None
        self._set_busy(None)
        self.last_job = job
        tasks = sum(job.task_counts.values())
        self._set_status(
            f"Submitted job {job.id} {job.spec.name!r}: {job.frame_count} frames in "
            f"{tasks} tasks. Its progress shows under Recent jobs."
        )
        self.remember_settings()
        self.tabs.setCurrentWidget(self.recent)
        self.recent.refresh()
        self._show_changed()
        self.submitted.emit(job)

    def _failed(self, exc: BaseException) -> None:
        self._call = None
        self._set_busy(None)
        self._show_error(exc)

    def _account_changed(self, name: str | None) -> None:
        self.owner = name
        self.form.extras.show_env(self.account.role)
        self._update_buttons()
        self.recent.refresh()
        self._show_changed()
        if name is not None and not self.daemon_ok:  # an expired token fails the health check
            self.check_daemon()

    def _show_changed(self) -> None:
        """The show's presets, and its previous jobs under "After job" (once signed in).

        Runs when the project's field is left, not on every keystroke: it reads the settings
        file and asks the daemon."""
        self.presets.show_changed(self.form.project.text().strip())
        self._list_previous_jobs()

    def _list_previous_jobs(self) -> None:
        """Offers under "After job" the previous jobs of the ShotGrid shot or asset chosen from
        its list, else of the show (once signed in)."""
        if self.owner is None:
            return
        chosen = self.shotgrid.chosen
        if chosen is not None:
            kind, entity_id = chosen
            filters: dict[str, object] = {kind.lower(): entity_id}
            scope = f"{kind.lower()} {self.form.extras.sg_shot.text().strip()}"
        else:
            show = self.form.project.text().strip()
            filters, scope = {"project": show}, f"show {show}"
        self.form.production.list_jobs(
            self.pool, lambda: self.client.jobs(**filters, limit=PREVIOUS_JOBS).items, scope
        )

    def _fetch_recent(self) -> list[JobSummary]:
        """Runs on a pool thread: the signed-in account's jobs (none while nobody is)."""
        owner = self.owner
        if owner is None:
            return []
        return self.client.jobs(owner=owner, limit=RECENT_JOBS).items

    # --- state -------------------------------------------------------------------------------

    def remember_settings(self) -> None:
        """Stores the form's choices for this scene (those that differ from its defaults)."""
        if self.info is None or not self.info.scene_path:
            return
        try:
            self.store.save(self.info.scene_path, self.form.settings(), self.defaults)
        except OSError as exc:
            logger.warning("cannot store the panel settings in %s: %s", self.store.path, exc)

    def shutdown(self) -> None:
        """Stops polling, drops calls in flight and remembers the choices (panel closing)."""
        self.recent.stop()
        self.account.stop()
        self.form.production.stop()
        self.shotgrid.stop()
        for call in (self._call, self._health):
            if call is not None:
                call.cancel()
        self._call = None
        self.remember_settings()

    def _set_busy(self, message: str | None) -> None:
        self.busy = message is not None
        self.busy_bar.setVisible(self.busy)
        self.cancel_button.setVisible(self.busy)
        if message is not None:
            self._set_status(message)
        self._update_buttons()

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")

    def _show_error(self, exc: BaseException, context: str = "") -> None:
        """Shows a Cloudburst error's message verbatim; anything else is a bug, logged."""
        self._set_status(self._describe(exc, context), error=True)

    _describe = staticmethod(describe_error)
