"""The farm page's charts, drawn on the server as SVG from the farm's history (no script, no
chart library): each chart is its lines' points in a fixed view box that CSS scales.

Pure: ``farm_charts`` turns a ``FarmHistory`` into ``Chart`` records the template draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from common.models import FarmHistory

WIDTH = 600
HEIGHT = 150
#: Lines of a chart with several (the shows' spend) take these CSS classes in turn.
SERIES_CLASSES = 8


@dataclass(frozen=True)
class Line:
    """One line of a chart: its name, its CSS class and its ``points`` (an SVG attribute)."""

    name: str
    css: str
    points: str
    last: float


@dataclass(frozen=True)
class Chart:
    """One chart: its title, the top of its scale and what it draws."""

    key: str
    title: str
    unit: str
    top: float
    lines: list[Line]

    @property
    def empty(self) -> bool:
        return not any(line.points for line in self.lines)


def nice_top(highest: float) -> float:
    """The top of a scale that holds ``highest``: 1, 2 or 5 times a power of ten (at least 1)."""
    if highest <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(highest))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= highest)


def polyline(
    points: Sequence[tuple[datetime, float]], since: datetime, until: datetime, top: float
) -> str:
    """``points`` as an SVG ``points`` attribute in the chart's view box."""
    span = max((until - since).total_seconds(), 1.0)
    coords = []
    for at, value in points:
        x = (at - since).total_seconds() / span * WIDTH
        y = HEIGHT - min(value, top) / top * HEIGHT
        coords.append(f"{x:.1f},{y:.1f}")
    return " ".join(coords)


def _chart(
    key: str,
    title: str,
    unit: str,
    series: Sequence[tuple[str, Sequence[tuple[datetime, float]]]],
    history: FarmHistory,
    top: float | None = None,
) -> Chart:
    highest = max((value for _, points in series for _, value in points), default=0.0)
    scale = top if top is not None else nice_top(highest)
    lines = [
        Line(
            name=name,
            css=f"series-{i % SERIES_CLASSES}",
            points=polyline(points, history.since, history.until, scale),
            last=points[-1][1] if points else 0.0,
        )
        for i, (name, points) in enumerate(series)
    ]
    return Chart(key=key, title=title, unit=unit, top=scale, lines=lines)


def farm_charts(history: FarmHistory) -> list[Chart]:
    """Utilisation, queue depth, frames per hour and, when the history holds it, each show's
    cloud spend."""
    points = history.points
    charts = [
        _chart("utilisation", "Farm utilisation", "% of online agents busy",
               [("busy", [(p.at, p.utilisation * 100) for p in points])], history, top=100.0),
        _chart("queue", "Queue depth", "queued tasks",
               [("queued", [(p.at, p.queue_depth) for p in points])], history),
        _chart("frames", "Frames per hour", "frames finished in the hour before",
               [("frames", [(p.at, p.frames_per_hour) for p in points])], history),
    ]  # fmt: skip
    if history.spend:
        shows = [(series.project, series.points) for series in history.spend]
        charts.append(_chart("spend", "Cloud spend per show", "spent so far", shows, history))
    return charts
