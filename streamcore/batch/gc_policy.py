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
    """Collect cycles less often (``THRESHOLDS``), for the rest of the process. Idempotent;
    called when a worker starts its loop (and by the bare loop of ``bench/ingest.py``)."""
    gc.set_threshold(*THRESHOLDS)
