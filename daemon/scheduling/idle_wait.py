"""How long an idle agent waits before it asks for work again: pure policy.

A farm of a few agents polls at each agent's own pace (``poll_interval_s``). A large one would
drown the daemon in empty lease calls, so the farm as a whole polls at most ``polls_per_s``
times a second: each agent waits ``live_agents / polls_per_s`` seconds, spread by +-10 % so
that agents told at the same moment do not come back together (near the cap the spread stays,
below it). The wait never passes half of the time after which a silent agent would show
offline (the lease time, ``Reaper``) or its cloud node be taken for unhealthy (``[cloud]
heartbeat_timeout_s``).
"""

from __future__ import annotations

JITTER = 0.1
"""How far each answer is spread around the farm's pace (+-10 %)."""


def longest_wait(max_poll_interval_s: float, offline_after_s: float) -> float:
    """The longest an idle agent is told to wait: the setting, at most half the time after
    which a silent agent shows offline."""
    return min(max_poll_interval_s, offline_after_s / 2)


def idle_wait(
    live_agents: int,
    *,
    poll_interval_s: float,
    polls_per_s: float,
    max_poll_interval_s: float,
    offline_after_s: float,
    spread: float,
) -> float:
    """Seconds an idle agent waits before its next lease call.

    Args:
        live_agents: agents online now.
        poll_interval_s: the farm's own poll interval (a small farm's wait, exactly).
        polls_per_s: lease calls a second the idle agents may make together.
        max_poll_interval_s: the longest wait (``longest_wait`` caps it further).
        offline_after_s: how long an agent may be silent: the lease time, after which it shows
            offline, or less where a cloud node is taken for unhealthy sooner.
        spread: a number from -1 to 1 (random) that spreads the farm's pace by ``JITTER``.
    """
    longest = longest_wait(max_poll_interval_s, offline_after_s)
    pace = live_agents / polls_per_s
    if pace <= poll_interval_s:
        return min(poll_interval_s, longest)
    # Centred low enough that the spread still spreads at the cap, and never passes it.
    wait = min(pace, longest / (1 + JITTER)) * (1 + JITTER * spread)
    return min(max(wait, poll_interval_s), longest)
