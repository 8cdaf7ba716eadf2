"""How a client connects: calls share one kept connection, until a protocol-2 daemon asks its
agents for a connection per call (``[agents] keep_alive = false``), which spares its server
thousands of idle connections to look at on every turn."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify, request

from common.client import DaemonClient
from tests.serving import serve


def _daemon(keep_alive: bool, ports: list[str]) -> Flask:
    app = Flask("connections")

    @app.get("/api/v1/agents/protocol")
    def protocol() -> Any:
        answer = {"version": 2, "update_interval_s": 4.0, "max_log_chars_per_update": 1000}
        return jsonify({"data": {**answer, "keep_alive": keep_alive}})

    @app.get("/api/v1/health")
    def health() -> Any:
        ports.append(request.environ["REMOTE_PORT"])  # the client's end of the connection
        return jsonify({"data": {"status": "ok"}})

    return app


@pytest.mark.parametrize("keep_alive", [True, False])
def test_calls_share_a_connection_unless_the_daemon_asks_for_one_per_call(
    keep_alive: bool,
) -> None:
    ports: list[str] = []
    with serve(_daemon(keep_alive, ports)) as url:
        client = DaemonClient(url)
        try:
            client.health()  # before the protocol is known: kept, as every client does
            protocol = client.agent_protocol()
            assert protocol is not None and protocol.keep_alive is keep_alive
            for _ in range(3):
                client.health()
        finally:
            client.close()
    assert len(ports) == 4
    if keep_alive:
        assert len(set(ports)) == 1  # one connection all along
    else:
        assert len(set(ports[1:])) == 3  # each call after the protocol on its own connection
