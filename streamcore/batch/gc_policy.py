"""The garbage-collector policy of a long-running batch process (an ingestion worker).

A worker allocates millions of short-lived objects a minute (data-points, rows, bound
statements), almost all freed by reference counting the moment a batch is done. With
CPython's default thresholds (700, 10, 10) the cyclic collector still runs thousands of
times a batch, and its older generations walk the whole entity cache each time: measured
at about a third of a worker's CPU. Collecting less often changes nothing else: cycles
(rare here: tracebacks of dead-lettered input, hook errors) are still collected.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def use_batch_gc() -> None:
    """Collect cycles less often (``THRESHOLDS``), for the rest of the process, and move
    what start-up built (modules, config, clients) out of the collector's sight
    (``gc.freeze``): a full collection then walks the cache, not the whole program.
    Called when a worker starts its loop; calling it again freezes what exists by then."""
    gc.set_threshold(*THRESHOLDS)
    gc.collect()
    gc.freeze()
