"""Daemon calls off the UI thread: a ``QRunnable`` per call, results back as Qt signals.

The host's UI thread never waits on the network. ``start_call`` runs a function on a thread
pool; its result or error comes back through a queued signal, so the callbacks run on the UI
thread. A cancelled call's result is dropped: HTTP requests cannot be interrupted halfway, but
the panel stops waiting at once and the artist can go on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from common.errors import CloudburstError

logger = logging.getLogger(__name__)


class _Relay(QObject):
    """Created on the UI thread and living there; its signals are emitted from the worker.

    The slots belong to this object, so Qt queues each emission to the UI thread.
    """

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, call: Call) -> None:
        super().__init__()
        self.call = call
        self.on_success: Callable[[Any], None] | None = None
        self.on_error: Callable[[BaseException], None] | None = None
        self.succeeded.connect(self._deliver_success)
        self.failed.connect(self._deliver_error)

    @Slot(object)
    def _deliver_success(self, result: Any) -> None:
        if not self.call.cancelled and self.on_success is not None:
            self.on_success(result)

    @Slot(object)
    def _deliver_error(self, exc: BaseException) -> None:
        if not self.call.cancelled and self.on_error is not None:
            self.on_error(exc)


class Call(QRunnable):
    """One function run on a pool thread, with cancellation.

    Attributes:
        thread_id: ``threading.get_ident()`` of the thread that ran the function (0 before).
    """

    def __init__(self, fn: Callable[[], Any], name: str = "call") -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python keeps it; Qt must not delete it under us
        self.fn = fn
        self.name = name
        self.signals = _Relay(self)
        self.thread_id = 0
        self.done = threading.Event()
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stops waiting for the call: its result or error will not be delivered.

        Runs on the UI thread.
        """
        self._cancelled.set()

    def run(self) -> None:
        """Runs the function. Runs on a pool thread, never the UI thread."""
        self.thread_id = threading.get_ident()
        try:
            result = self.fn()
        except Exception as exc:  # delivered to the UI thread, which shows or logs it
            if not self.cancelled:
                logger.debug("%s failed: %s", self.name, exc, exc_info=True)
                self.signals.failed.emit(exc)
        else:
            if not self.cancelled:
                self.signals.succeeded.emit(result)
        finally:
            self.done.set()


def start_call(
    pool: QThreadPool,
    fn: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
    name: str = "call",
) -> Call:
    """Runs ``fn`` on ``pool``; ``on_success(result)`` or ``on_error(exc)`` on the UI thread.

    Runs on the UI thread. Keep the returned ``Call`` to cancel it.
    """
    call = Call(fn, name)
    call.signals.on_success = on_success
    call.signals.on_error = on_error
    pool.start(call)
    return call


def describe_error(exc: BaseException, context: str = "") -> str:
    """What the artist reads of a failed call: a Cloudburst error's message verbatim; anything
    else is a bug, logged with its traceback."""
    if isinstance(exc, CloudburstError):
        return exc.message
    logger.error("%s", context or "unexpected error", exc_info=exc)
    prefix = f"{context}: " if context else "Unexpected error: "
    return f"{prefix}{type(exc).__name__}: {exc} (details in the log)"
