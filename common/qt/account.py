"""``AccountBar``: who the panel submits as, with Sign in and Sign out.

The daemon makes the signed-in account the owner of every job the panel sends, so the panel
shows that account ("Signed in as ana (artist)"), asks the daemon who it is (``GET /auth/me``)
rather than trusting the machine's login, and says plainly when the kept sign-in has expired.
Signing in and out keeps the same tokens as ``cloudburst login`` and ``cloudburst logout``
(``common.credentials.SignedIn`` in a ``TokenStore``). Every daemon call runs on the pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from common.accounts import Role, TokenPair, User
from common.client import DaemonClient
from common.credentials import SignedIn
from common.errors import Unauthenticated
from common.qt.form import ERROR_STYLE
from common.qt.workers import Call, describe_error, start_call


class AccountBar(QWidget):
    """ "Signed in as X" and Sign out, or a user name, a password and Sign in.

    ``signed_in`` is None when the client sends a fixed token (an API key): the account is
    shown, but there is nothing to sign in or out of.

    Signals:
        changed(object): the signed-in user's name, or None when nobody is.
    """

    changed = Signal(object)

    def __init__(
        self,
        client: DaemonClient,
        signed_in: SignedIn | None,
        pool: QThreadPool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.signed_in = signed_in
        self.pool = pool
        self.name: str | None = None
        self.role: Role | None = None
        """The signed-in account's role (what the panel offers depends on it); None while
        nobody is signed in."""
        self._call: Call | None = None
        self.label = QLabel()
        self.label.setObjectName("account")
        self.label.setWordWrap(True)
        self.user_field = QLineEdit()
        self.user_field.setPlaceholderText("user name")
        self.password_field = QLineEdit()
        self.password_field.setPlaceholderText("password")
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_out_button = QPushButton("Sign out")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        for widget in (self.user_field, self.password_field, self.sign_in_button):
            layout.addWidget(widget)
        layout.addWidget(self.sign_out_button)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.password_field.returnPressed.connect(self.sign_in)
        self.sign_out_button.clicked.connect(self.sign_out)
        self._show(None, "Checking who is signed in...")

    def check(self) -> None:
        """Asks the daemon who the kept credentials belong to."""
        self._start(self.client.me, self._known, self._unknown, "me")

    def sign_in(self) -> None:
        """Signs in with the typed name and password and keeps the tokens."""
        user, password = self.user_field.text().strip(), self.password_field.text()
        if self.signed_in is None or not user or not password:
            self._show(None, "Type your user name and password, then Sign in.", error=True)
            return
        self._start(lambda: self.client.login(user, password), self._signed_in, self._refused)

    def sign_out(self) -> None:
        """Ends the session at the daemon and forgets the kept tokens."""
        if self.signed_in is None:
            return
        tokens = self.signed_in.store.load(self.signed_in.daemon_url) or {}
        refresh = str(tokens.get("refresh_token") or "") or None
        self._start(lambda: self.client.logout(refresh), self._signed_out, self._signed_out)

    def stop(self) -> None:
        if self._call is not None:
            self._call.cancel()
            self._call = None

    def _start(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None],
        name: str = "account",
    ) -> None:
        self.stop()
        self._call = start_call(self.pool, fn, done, failed, name)

    def _known(self, user: User) -> None:
        self._call = None
        self.role = user.role
        self._show(user.name, f"Signed in as {user.name} ({user.role.value})")

    def _signed_in(self, pair: TokenPair) -> None:
        assert self.signed_in is not None
        self.signed_in.save(pair.model_dump(mode="json"))
        self.password_field.clear()
        self._known(pair.user)

    def _refused(self, exc: BaseException) -> None:
        self._call = None
        self.password_field.clear()
        self._show(None, describe_error(exc, "Signing in failed"), error=True)

    def _signed_out(self, _result: object = None) -> None:
        self._call = None
        if self.signed_in is not None:
            self.signed_in.store.delete(self.signed_in.daemon_url)
        self._show(None, f"Signed out of {self.client.base_url}. Sign in to submit.")

    def _unknown(self, exc: BaseException) -> None:
        self._call = None
        url = self.client.base_url
        if not isinstance(exc, Unauthenticated):
            reason = describe_error(exc, "the daemon did not answer")
            text = f"Cannot tell who is signed in: {reason}"
        elif self.signed_in is not None and self.signed_in.store.load(url):
            text = f"Your sign-in to {url} has expired. Sign in again to submit."
        elif self.signed_in is None:
            text = f"The token in the settings is not accepted by {url}. Ask IT for a new one."
        else:
            text = f"Not signed in to {url}. Sign in to submit jobs as yourself."
        self._show(None, text, error=isinstance(exc, Unauthenticated))

    def _show(self, name: str | None, text: str, error: bool = False) -> None:
        self.label.setText(text)
        self.label.setStyleSheet(ERROR_STYLE if error else "")
        can_sign = self.signed_in is not None
        for widget in (self.user_field, self.password_field, self.sign_in_button):
            widget.setVisible(can_sign and name is None)
        self.sign_out_button.setVisible(can_sign and name is not None)
        if name is None:
            self.role = None
        if name != self.name:
            self.name = name
            self.changed.emit(name)
