"""``/api/v1/monitoring/metrics`` (JSON), ``/api/v1/farm/history`` (the farm over time) and
``/metrics`` (Prometheus text, outside /api/v1).

``/metrics`` takes the scrape token of ``monitoring.scrape_token`` as a bearer token, or the
token of a user with ``logs.read`` (TDs and admins); everyone else gets 401/403.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request

from common.models import FarmHistory, FarmMetrics, HistoryQuery
from daemon.api.guard import authorize, current_principal
from daemon.api.routing import ApiBlueprint
from daemon.auth import Permission
from daemon.container import services
from daemon.services import prometheus
from daemon.services.monitoring import MonitoringService

bp = ApiBlueprint("monitoring", __name__, tag="monitoring")
scrape_bp = Blueprint("prometheus", __name__)


def monitoring() -> MonitoringService:
    return services().monitoring


@bp.operation(
    "GET", "/monitoring/metrics",
    "Farm and per-agent CPU, GPU, memory and disk, queue depth, throughput, leases, ShotGrid",
    returns=FarmMetrics, permission=Permission.AGENTS_READ,
)  # fmt: skip
def metrics() -> FarmMetrics:
    return monitoring().metrics()


@bp.operation(
    "GET", "/farm/history",
    "The farm over time: agents online and busy, queue depth, frames per hour and (for those "
    "who may read reports) each show's cloud spend, from the samples the daemon stores",
    query=HistoryQuery, returns=FarmHistory, permission=Permission.AGENTS_READ,
)  # fmt: skip
def farm_history(query: HistoryQuery) -> FarmHistory:
    with_spend = current_principal().may(Permission.REPORTS_READ)
    return services().farm_history.history(query, with_spend=with_spend)


@scrape_bp.get("/metrics")
def scrape() -> Response:
    """Prometheus' scrape: the scrape token, or a TD's or admin's token."""
    token = services().context.settings.monitoring.scrape_token
    secret = token.get_secret_value()
    sent = request.headers.get("Authorization", "")
    if not (secret and hmac.compare_digest(sent.encode(), f"Bearer {secret}".encode())):
        authorize("GET", "/metrics", Permission.LOGS_READ, False, {})
    text = prometheus.render(monitoring().metrics())
    return Response(text, content_type=prometheus.CONTENT_TYPE)
