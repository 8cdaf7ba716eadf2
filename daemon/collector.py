"""The garbage collector of a serving process, set for a server of many small requests.

CPython collects its youngest objects every 700 allocations by default. A daemon answering a
thousand requests a second then catches the objects of the requests still in flight (and of the
agents' updates waiting for the next group commit) in those collections, and they reach the
oldest generation before they die. Once enough have arrived there, a full collection scans every
object the process holds (some 300,000 with 5,000 agents): every thread of the process stops for
100-160 ms, every dozen seconds, and the agents' requests of that moment wait for it
(docs/performance.md, "A farm's chatter").

So each serving process, once started, marks what start-up made (modules, the app, the schemas:
objects that live as long as the process) as never to be scanned again, and collects the young
generation every ``YOUNG_THRESHOLD`` allocations: short-lived objects then die before any
collection sees them, and full collections become rare and short. Cycles are still collected.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000
"""Allocations (less deallocations) between two collections of the youngest generation."""
OLDER_THRESHOLDS = (20, 10)
"""Collections of each generation before the next one is collected too (CPython's are 10, 10;
the oldest is also collected only once a quarter of its objects are new)."""


def settle_collector() -> None:
    """Sets this process's collector for serving; call it once start-up is done."""
    gc.collect()  # start-up's garbage is not kept forever
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
