"""The display stand-in: the HTTP server a client connects to instead of a PCoIP, DCV or RDP
server, with the same broker check a real one would make.

* ``POST /connect`` ``{"token": T}``: the broker spends the token (``Broker.redeem``); a good
  one gives ``{"connection": id, "user": name}``, a spent, expired or foreign one a 403
  ``connection_refused`` with the daemon's sentence.
* With ``X-Connection: <id>``: ``PUT /files/<path>`` and ``GET /files/<path>`` in the home
  folder (``files.HomeFiles``), ``POST /disconnect``.
* ``GET /status``: ``{"connected", "warning", "idle_s"}``.
* ``POST /dcv/auth``: a NICE DCV server's external authenticator (``dcv_auth``).

Beside a real display server (``stand_in=False``: ``--display-port``, an OCI image) only
``/status`` and ``/dcv/auth`` are served: the artist is logged in on that machine and could swap a
folder of the home for a link between ``HomeFiles``' check and its open, reaching the agent's own
files (its session secret) through ``/files``; clients there use the display server's own.

Answers are JSON; an error is ``{"code", "message"}`` with a stable code and a sentence that
says what to do. A plain WSGI application, served by waitress (``Listener``); it runs on
waitress's worker threads and keeps its state in ``Presence``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any, BinaryIO

import waitress
from pydantic import ValidationError

from cloud_agent.desktop import dcv_auth
from cloud_agent.desktop.broker import Broker
from cloud_agent.desktop.files import HomeFiles
from cloud_agent.desktop.presence import Presence
from common.errors import (
    CloudburstError,
    ConfigError,
    DaemonUnreachable,
    InvalidInput,
    ServiceUnavailable,
    UserFacingError,
)
from common.models import TokenRedeem

logger = logging.getLogger(__name__)

CONNECTION_HEADER = "HTTP_X_CONNECTION"
#: The largest body of ``/connect`` and ``/dcv/auth``.
MAX_SMALL_BODY = 4096

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]


class Refused(UserFacingError):
    """An answer of the display stand-in other than the common errors'."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Display:
    """The WSGI application of the display stand-in."""

    def __init__(
        self, broker: Broker, files: HomeFiles, presence: Presence, stand_in: bool = True
    ) -> None:
        self.broker = broker
        self.files = files
        self.presence = presence
        #: False beside a real display server: only ``/status`` and ``/dcv/auth``.
        self.stand_in = stand_in

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        try:
            return self._route(method, path, environ, start_response)
        except CloudburstError as exc:
            status = exc.status if isinstance(exc, UserFacingError) else 500
            message = exc.message if isinstance(exc, UserFacingError) else "Internal error."
            return _json(start_response, status, {"code": exc.code, "message": message})

    def _route(
        self, method: str, path: str, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        if path == "/status":
            _allow(method, "GET")
            return _json(start_response, 200, self.status())
        if path == "/dcv/auth":
            _allow(method, "POST")
            body = self.dcv_auth(_small_body(environ))
            start_response("200 OK", [("Content-Type", "text/xml"), _length(body)])
            return [body]
        if not self.stand_in:
            raise _not_found(path)
        if path == "/connect":
            _allow(method, "POST")
            return _json(start_response, 200, self.connect(_small_body(environ)))
        if path == "/disconnect":
            _allow(method, "POST")
            if not self.presence.disconnect(environ.get(CONNECTION_HEADER)):
                raise _not_connected()
            return _json(start_response, 200, {"connected": False})
        if path.startswith("/files/"):
            return self._file(method, path.removeprefix("/files/"), environ, start_response)
        raise _not_found(path)

    def status(self) -> dict[str, Any]:
        presence = self.presence
        return {
            "connected": presence.connected,
            "warning": presence.warning,
            "idle_s": round(presence.idle_s, 3),
        }

    def connect(self, body: bytes) -> dict[str, str]:
        """Lets a client in with a one-time token the broker takes."""
        if self.presence.ending:
            raise Refused(
                "desktop_ending", 503, "This desktop is shutting down: start a new session."
            )
        try:
            token = TokenRedeem.model_validate_json(body).token
        except ValidationError:
            raise InvalidInput(
                'Send {"token": "<the connection token of GET /api/v1/sessions/<id>>"}.'
            ) from None
        user = self._redeem(token)
        connection = self.presence.connect(user)
        logger.info("desktop: %s connected", user)
        return {"connection": connection, "user": user}

    def dcv_auth(self, body: bytes) -> bytes:
        """A DCV server asks whether a client's token is good (the broker decides)."""
        token = dcv_auth.token_of(body)
        if token is None:
            return dcv_auth.answer(None)
        try:
            user = self._redeem(token)
        except UserFacingError as exc:
            logger.info("desktop: DCV client refused: %s", exc.message)
            return dcv_auth.answer(None)
        self.presence.touch()
        return dcv_auth.answer(user)

    def _redeem(self, token: str) -> str:
        try:
            return self.broker.redeem(token).user
        except (DaemonUnreachable, ServiceUnavailable):
            raise Refused(
                "broker_unreachable",
                503,
                "The studio's connection broker did not answer: try again in a minute.",
            ) from None
        except UserFacingError as exc:
            if exc.status == 403:
                raise Refused("connection_refused", 403, exc.message) from None
            logger.error("desktop: the broker refused this desktop: %s", exc.message)
            raise Refused(
                "broker_refused",
                502,
                "The connection broker did not accept this desktop: ask IT to check the session.",
            ) from None

    def _file(
        self, method: str, name: str, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        _allow(method, "GET", "PUT")
        if self.presence.use(environ.get(CONNECTION_HEADER)) is None:
            raise _not_connected()
        if method == "PUT":
            length = _content_length(environ)
            written = self.files.write(name, environ["wsgi.input"], length)
            return _json(start_response, 200, {"path": name, "size": written})
        handle, size = self.files.open(name)
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
        )
        return _chunks(handle)


class Listener:
    """``Display`` served by waitress on ``host:port`` (0: a free port) on a thread of its own."""

    def __init__(self, app: Display, host: str, port: int, threads: int = 4) -> None:
        """Binds at once (the port is known from here on).

        Raises:
            ConfigError: the address cannot be bound (taken, or not this machine's).
        """
        try:
            self._server: Any = waitress.create_server(
                app,
                host=host,
                port=port,
                threads=threads,
                # waitress keeps a body before the app sees it: no larger than a file may be
                max_request_body_size=MAX_SMALL_BODY + (app.files.max_bytes if app.stand_in else 0),
            )
        except OSError as exc:
            raise ConfigError(
                f"The display cannot listen on {host}:{port} ({exc.strerror or exc}): free the "
                "port, or give another with --port (0: any free one)."
            ) from None
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="display", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Closes every socket from the server's own loop thread, then its workers."""

        def close() -> None:
            for channel in list(self._server._map.values()):
                if channel is not self._server and channel is not self._server.trigger:
                    channel.handle_close()
            self._server.close()

        with contextlib.suppress(OSError):
            self._server.trigger.pull_trigger(close)
        self._thread.join(timeout=5)
        self._server.task_dispatcher.shutdown(timeout=5)


def _json(start_response: StartResponse, status: int, data: Any) -> list[bytes]:
    body = json.dumps(data).encode()
    phrase = HTTPStatus(status).phrase
    start_response(f"{status} {phrase}", [("Content-Type", "application/json"), _length(body)])
    return [body]


def _length(body: bytes) -> tuple[str, str]:
    return ("Content-Length", str(len(body)))


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise Refused("method_not_allowed", 405, f"Use {' or '.join(allowed)} here, not {method}.")


def _not_found(path: str) -> Refused:
    return Refused("not_found", 404, f"{path} is not a page of this desktop.")


def _not_connected() -> Refused:
    return Refused(
        "not_connected",
        401,
        "This request names no connection of this desktop: connect with a token first "
        "(POST /connect) and send its id as X-Connection.",
    )


def _content_length(environ: Environ) -> int:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        raise Refused("length_required", 411, "Send the file with its Content-Length.") from None
    if length < 0:
        raise InvalidInput("Content-Length must not be negative.")
    return length


def _small_body(environ: Environ) -> bytes:
    length = _content_length(environ)
    if length > MAX_SMALL_BODY:
        raise Refused("too_large", 413, f"Send at most {MAX_SMALL_BODY} bytes here.")
    stream: BinaryIO = environ["wsgi.input"]
    return stream.read(length)


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(1024 * 1024):
            yield chunk
