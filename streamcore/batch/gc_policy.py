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
_frozen = False


def use_batch_gc() -> None:
    """Collect cycles less often (``THRESHOLDS``), for the rest of the process, and move
    what start-up built (modules, config, clients) out of the collector's sight
    (``gc.freeze``): a full collection then walks the cache, not the whole program.
    Called when a worker starts its loop. Only the first call freezes: in a process that
    runs several workers one after another (tests), what the earlier ones left behind must
    stay collectable (a client kept alive by a frozen cycle would go on polling)."""
    global _frozen  # noqa: PLW0603 (once per process, by design)
    gc.set_threshold(*THRESHOLDS)
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
