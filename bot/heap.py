"""The garbage collector, set for a long-running bot once it has started.

Python's cyclic collector runs a young-generation pass whenever container objects allocated
exceed those freed by 700. With residents' updates in flight at once, each holding its
coroutines, screens and python-telegram-bot objects, that margin is crossed every few dozen
updates although almost nothing survives (no cycle was found in a run of 4,500 updates), and
each pass, and the full passes they lead to over the whole start-up heap (the libraries, the
catalogs, the workspace), cost the bot ~30 us an update at 16 in flight (bench/README.md).

So, once started: what start-up made is moved out of the collector's sight (`gc.freeze`; it
lives as long as the process anyway), and a young pass waits for 10,000 more allocations than
frees. Garbage with cycles is still collected, a little later; reference counting frees
everything else at once, as before.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Called once, when the bot has started: freeze the start-up heap, collect young objects less often."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
