"""The garbage-collector policy of a long-running batch process (an ingestion worker).

A worker allocates millions of short-lived objects a minute (data-points, rows, bound
statements), almost all freed by reference counting the moment a batch is done. With
CPython's default thresholds (700, 10, 10) the cyclic collector still runs thousands of
times a batch, and its older generations walk the whole entity cache each time: measured
at about a third of a worker's CPU. Collecting less often changes nothing else: cycles
(rare here: tracebacks of dead-lettered input, hook errors) are still collected.

Even at those thresholds, collections during a batch walk the batch's own objects, which
all live until it ends: ``BatchCollector`` keeps the collector out of a batch and collects
the young generations once after it, when those objects are freed already.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

THRESHOLDS = (50_000, 20, 20)
FULL_COLLECTION_SECONDS = 60.0
FULL_COLLECTION_SHARE = 0.01
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


class BatchCollector:
    """The cyclic collector off while a batch runs; after it, the young generations
    collected (what the batch left: its new cache records and any cyclic garbage), and
    the whole heap once ``full_seconds`` have passed since the last full collection, so
    garbage that reached the oldest generation waits at most that long. A heap whose full
    collection takes longer than ``full_share`` of that time (a large object cache: 0.36 s
    at 20,000 records of the bench shape, 2.4 s at 100,000) is collected less often, so
    full collections stay within that share of the worker's time.

    A process whose collector was already off (``gc.disable()`` by its owner) is left as
    it is."""

    def __init__(
        self,
        full_seconds: float = FULL_COLLECTION_SECONDS,
        full_share: float = FULL_COLLECTION_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.full_seconds = full_seconds
        self.full_share = full_share
        self._clock = clock
        self._last_full = clock()
        self._full_interval = full_seconds

    @contextmanager
    def batch(self) -> Iterator[None]:
        if not gc.isenabled():
            yield
            return
        gc.disable()
        try:
            yield
        finally:
            gc.enable()
            now = self._clock()
            if now - self._last_full >= self._full_interval:
                gc.collect(2)
                self._last_full = self._clock()
                took = self._last_full - now
                self._full_interval = max(self.full_seconds, took / self.full_share)
            else:
                gc.collect(1)
