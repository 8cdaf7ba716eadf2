"""A serving process's garbage collector (``daemon.collector``): what start-up made is never
scanned again, the young generation is collected far less often, and cycles still go."""

from __future__ import annotations

import gc
import weakref

from daemon.collector import OLDER_THRESHOLDS, YOUNG_THRESHOLD, settle_collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_start_up_is_frozen_the_young_wait_longer_and_cycles_are_still_collected() -> None:
    before = gc.get_threshold()
    try:
        made_at_start = Node()
        settle_collector()
        assert gc.get_freeze_count() > 0
        assert gc.is_tracked(made_at_start)
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
        assert before[0] < YOUNG_THRESHOLD, "fewer young collections than CPython's default"

        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle made while serving
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None, "a cycle made after start-up is still collected"
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
