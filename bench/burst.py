"""Bursting to the cloud over a simulated production day: never, always, or Cloudburst's way.

Runs the discrete-event day of ``burst_sim.py`` (shows with budgets, hundreds of jobs with due
dates, a fixed local farm, cloud nodes that boot, bill per second and get preempted, with a
spike of preemptions in the afternoon) under three policies, and prints for each: due dates met,
cloud cost, billed node seconds over productive render seconds (boot, idle time before release,
task start-up and preempted partial work are billed but not productive), and the time from a
job's cloud backlog to its first cloud frame starting. Cloudburst's policy is the daemon's own
``daemon.scheduling`` routing, autoscaler and budget functions.

The goals: Cloudburst meets at least as many due dates as always bursting at clearly lower
cost, with billed over productive seconds at most 1.15.

Usage: ``python bench/burst.py [--seed 7] [--jobs 300] [--local-slots 180] [--max-nodes 60]
[--preempt-per-hour 0.15] [--spike-factor 12] [--budget-scale 1]`` (``--help`` for the rest).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import fields, replace

from burst_sim import simulate
from burst_world import Policy, Result, Scenario

from daemon.scheduling.budget import money

RATIO_GOAL = 1.15


def minutes(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) / 60:.1f} min"


def parse_args() -> Scenario:
    defaults = Scenario()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options = {
        "seed": "seed of the day's jobs and the nodes' preemption luck",
        "jobs": "jobs submitted over the day",
        "local_slots": "render slots of the local farm",
        "max_nodes": "most cloud nodes at once",
        "scale_up_per_step": "cloud nodes launched per pass at most",
        "boot_s": "seconds from launch to a cloud node taking work",
        "idle_release_s": "seconds a cloud node stays idle before it may be released",
        "pass_s": "seconds between scheduling passes",
        "preempt_per_hour": "preemptions per preemptible node-hour outside the spike",
        "spike_factor": "preemption rate multiplier during the spike",
        "spike_start_s": "start of the preemption spike (seconds into the day)",
        "spike_s": "length of the preemption spike",
        "task_start_s": "seconds a cloud task spends before rendering",
        "naive_chunk": "frames per cloud task when always bursting",
    }
    kinds = {f.name: type(getattr(defaults, f.name)) for f in fields(Scenario)}
    for name, text in options.items():
        default = getattr(defaults, name)
        parser.add_argument(
            "--" + name.replace("_", "-"), type=kinds[name], default=default,
            help=f"{text} (default {default})",
        )  # fmt: skip
    parser.add_argument(
        "--budget-scale", type=float, default=1.0,
        help="multiplies every show's cloud budget (default 1)",
    )  # fmt: skip
    args = parser.parse_args()
    values = {name: getattr(args, name) for name in options}
    shows = tuple(replace(show, budget=show.budget * args.budget_scale) for show in defaults.shows)
    return Scenario(shows=shows, **values)


def row(result: Result) -> str:
    share = f"{result.met}/{result.with_due}"
    ratio = "-" if result.productive_s == 0 else f"{result.ratio:.3f}"
    stops = ", ".join(sorted(result.budget_stops)) or "-"
    return (
        f"{result.policy.value:<13} {share:>9} {money(result.spend.total):>9} {ratio:>7} "
        f"{minutes(result.first_frame_s):>10} {result.jobs_burst:>6} {result.cloud_frames:>8} "
        f"{result.nodes:>6} {result.preemptions:>6}  {stops}"
    )


def main() -> None:
    scenario = parse_args()
    budgets = ", ".join(
        f"{show.name} {money(show.budget)}{' (confidential)' if show.confidential else ''}"
        for show in scenario.shows
    )
    print(
        f"day of {scenario.jobs} jobs, {len(scenario.shows)} shows, {scenario.local_slots} local "
        f"slots, up to {scenario.max_nodes} cloud nodes (boot {scenario.boot_s:.0f} s), "
        f"{scenario.preempt_per_hour:g} preemptions per node-hour (x{scenario.spike_factor:g} "
        f"for {scenario.spike_s / 3600:g} h), seed {scenario.seed}"
    )
    print(f"cloud budgets for the day: {budgets}")
    print(
        f"{'policy':<13} {'dates met':>9} {'cost':>9} {'billed/':>7} {'to 1st':>10} "
        f"{'jobs':>6} {'cloud':>8} {'nodes':>6} {'preem':>6}  budget reached"
    )
    print(
        f"{'':<13} {'':>9} {'':>9} {'product':>7} {'cloud frame':>10} {'burst':>6} "
        f"{'frames':>8} {'':>6} {'':>6}"
    )
    results = {}
    started = time.perf_counter()
    for policy in Policy:
        results[policy] = simulate(scenario, policy)
        print(row(results[policy]))
    elapsed = time.perf_counter() - started
    print("where the billed node seconds went (share of billed), and spend by show:")
    for policy in (Policy.ALWAYS, Policy.CLOUDBURST):
        result = results[policy]
        billed = result.billed_s or 1.0
        parts = (
            ("render", result.productive_s), ("boot", result.boot_s), ("idle", result.idle_s),
            ("task start", result.start_s), ("preempted work", result.lost_s),
        )  # fmt: skip
        shares = ", ".join(f"{name} {seconds / billed:.1%}" for name, seconds in parts)
        shows = ", ".join(
            f"{show} {money(amount)}" for show, amount in sorted(result.shows.items()) if amount
        )
        print(f"  {policy.value:<13} {result.billed_s / 3600:,.0f} node-h: {shares}")
        print(f"  {'':<13} {shows}")
    never, always, ours = (results[p] for p in Policy)
    change = ours.spend.total / always.spend.total - 1 if always.spend.total else 0.0
    cheaper = f"{-change:.0%} less" if change <= 0 else f"{change:.0%} more"
    ok = (
        ours.met >= always.met
        and ours.spend.total < always.spend.total
        and ours.ratio <= RATIO_GOAL
    )
    print(
        f"summary: cloudburst meets {ours.met}/{ours.with_due} due dates (always burst "
        f"{always.met}, never {never.met}) for {money(ours.spend.total)}, {cheaper} than "
        f"always bursting; billed/productive {ours.ratio:.3f} (goal <= {RATIO_GOAL}); "
        f"{'goals met' if ok else 'GOALS MISSED'} ({elapsed:.1f} s)"
    )


if __name__ == "__main__":
    main()
