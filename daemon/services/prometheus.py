"""The farm's metrics in Prometheus' text exposition format (version 0.0.4).

Written by hand rather than with ``prometheus_client``: the daemon already computes every value
per scrape (``FarmMetrics``), so a registry of live collectors would only duplicate it, and the
text format is a few lines of escaping.
"""

from __future__ import annotations

from collections.abc import Iterable

from common.models import FarmMetrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[dict[str, str], float]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _family(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
        lines.append(f"{name}{{{label_text}}} {_number(value)}" if label_text
                     else f"{name} {_number(value)}")  # fmt: skip
    return lines


def render(metrics: FarmMetrics) -> str:
    """The whole scrape; agents without a reading leave their sample out."""
    agents = metrics.agents
    lines: list[str] = []

    def gauge(name: str, help_text: str, samples: Iterable[Sample]) -> None:
        lines.extend(_family(f"cloudburst_{name}", "gauge", help_text, samples))

    gauge("agents", "Agents by state.", [
        ({"state": "online"}, metrics.agents_online),
        ({"state": "offline"}, metrics.agents_offline),
    ])  # fmt: skip
    for field, help_text in (
        ("cpu_percent", "CPU use last reported by each agent, percent."),
        ("memory_percent", "Memory use last reported by each agent, percent."),
        ("gpu_percent", "GPU use last reported by each agent, percent."),
        ("disk_free_mb", "Free disk last reported by each agent, MiB."),
    ):
        gauge(f"agent_{field}", help_text, [
            ({"agent": a.name, "agent_id": a.agent_id, "pool": a.pool}, value)
            for a in agents if (value := getattr(a, field)) is not None
        ])  # fmt: skip
    gauge("agent_tasks", "Tasks leased or running on each agent.",
          [({"agent": a.name, "agent_id": a.agent_id, "pool": a.pool}, a.running_tasks)
           for a in agents])  # fmt: skip
    gauge("queue_depth", "Tasks waiting for an agent.", [({}, metrics.queue_depth)])
    gauge("tasks_leased", "Tasks leased to an agent, not yet started.",
          [({}, metrics.leased_tasks)])  # fmt: skip
    gauge("tasks_running", "Tasks rendering now.", [({}, metrics.running_tasks)])
    gauge("jobs", "Jobs by state.",
          [({"state": state}, n) for state, n in metrics.jobs_by_state.items()])  # fmt: skip
    gauge("frames_per_minute",
          f"Frames done per minute over the last {_number(metrics.throughput_window_s)} s.",
          [({}, metrics.frames_per_minute)])  # fmt: skip
    sg = metrics.shotgrid
    gauge("shotgrid_configured", "1 when the daemon talks to ShotGrid.",
          [({}, float(sg.configured))])  # fmt: skip
    gauge("shotgrid_healthy", "1 when the last ShotGrid sync succeeded.", [({}, float(sg.healthy))])
    gauge("shotgrid_stale", "1 when ranks use stale ShotGrid values.", [({}, float(sg.stale))])
    gauge("shotgrid_consecutive_failures", "ShotGrid syncs failed in a row.",
          [({}, sg.consecutive_failures)])  # fmt: skip
    gauge("shotgrid_writeback", "ShotGrid write-backs by state.",
          [({"state": "pending"}, sg.writeback_pending),
           ({"state": "failed"}, sg.writeback_failed)])  # fmt: skip
    disk = metrics.daemon_disk
    if disk is not None:
        gauge("daemon_disk_free_bytes", "Free bytes on the daemon's data disk.",
              [({}, disk.free_bytes)])  # fmt: skip
        gauge("daemon_disk_total_bytes", "Size of the daemon's data disk, bytes.",
              [({}, disk.total_bytes)])  # fmt: skip
        gauge("daemon_disk_low", "1 when the daemon's data disk is below its warning level.",
              [({}, float(disk.low))])  # fmt: skip
    if sg.last_success_at is not None:
        gauge("shotgrid_last_success_timestamp_seconds", "When a ShotGrid sync last succeeded.",
              [({}, sg.last_success_at.timestamp())])  # fmt: skip
    return "\n".join(lines) + "\n"
