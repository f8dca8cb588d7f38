"""Bytes per cached entity: the worker's entity cache filled with the bench load's records.

    .venv/bin/python bench/cache_memory.py [--entities 20000] [--load bench|realistic]

Builds the records a worker caches (decoded tasks merged by ``TaskProcessor``, no hooks,
written state marked clean) for ``--entities`` entities of ``bench/ingest.py``'s load,
puts them in an ``EntityCache``, and reports what the cache holds per entity, kept as
objects (the hot tier) and kept packed: traced allocations (tracemalloc: the records and
everything they reference; an RSS delta is no measure here, the allocator reuses what
decoding freed) and the cache's own estimate (``EntityCache.bytes``) next to them; then
the CPU time of packing and unpacking one record. No servers needed.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest_load import bench_load, encoded, realistic_load

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=20000)
    parser.add_argument("--load", choices=["bench", "realistic"], default="bench")
    args = parser.parse_args()

    from streamcore import native
    from streamcore.batch.gc_policy import THRESHOLDS
    from streamcore.codec.tasks import TaskDecoder
    from streamcore.config import load_config
    from streamcore.ingest.cache import EntityCache
    from streamcore.ingest.hook_runner import NoHooks
    from streamcore.ingest.processor import TaskProcessor
    from streamcore.state.encoding import eid_text
    from streamcore.state.record import EntityRecord

    config = load_config(ROOT / "config")
    if args.load == "bench":
        tasks = bench_load(args.entities, 6, 5)
    else:
        tasks = realistic_load(args.entities * 4, 1_000_000, 1.1)
    messages = encoded(tasks, config.model_spec)
    del tasks
    decoder = TaskDecoder(config.model_spec)
    processor = TaskProcessor(config.model_spec, NoHooks())
    now = datetime.now(UTC)

    def cached(hot: int | None) -> tuple[EntityCache, list[Any], float]:
        """A cache (``hot``: its object tier) filled with the load's records, written state
        marked clean; the keys, and the seconds spent in ``put``."""
        cache = EntityCache(10**9, hot_entities=hot)
        records: dict[Any, EntityRecord] = {}
        for n, (_, value) in enumerate(messages):
            task = decoder.decode(value)
            key = (task.etype, task.eid)
            record = records.get(key)
            if record is None:
                record = records[key] = EntityRecord(task.etype, task.eid, eid_text(task.eid))
            processor.process(record, task, f"input:0:{n}", now)
        started = time.perf_counter()
        for key, record in records.items():
            record.mark_clean()
            cache.put(key, ("input", 0), record)
        return cache, list(records), time.perf_counter() - started

    for tier, hot in (("objects", None), ("packed", 0)):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        cache, keys, _ = cached(hot)
        gc.collect()
        count = len(cache)
        traced = (tracemalloc.get_traced_memory()[0] - before - sys.getsizeof(keys)) / count
        tracemalloc.stop()
        print(
            f"{count} cached entities ({args.load} load, {tier}): {traced:,.0f} B/entity "
            f"traced, cache estimate {cache.bytes / count:,.0f} B/entity"
        )
        del cache, keys
    # The CPU a packed record costs: packing when it leaves the hot tier, unpacking when it
    # is used again (outside tracemalloc, which slows allocation down; with the worker's
    # garbage-collector thresholds).
    gc.set_threshold(*THRESHOLDS)
    cache, keys, packing = cached(0)
    cache.hot_entities = len(keys)
    started = time.perf_counter()
    for key in keys:
        cache.get(key)
    unpacking = time.perf_counter() - started
    print(
        f"packing {packing / len(keys) * 1e6:.1f} us/entity, "
        f"unpacking {unpacking / len(keys) * 1e6:.1f} us/entity ({native.status.reason})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
