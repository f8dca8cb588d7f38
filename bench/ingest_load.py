"""The loads of ``bench/ingest.py``: the bench load and the realistic (Zipf) load.

* bench: ``entities`` IPs, each sent ``tasks_per_entity`` tasks in rounds (every entity
  once per round), plain + observation attributes; every entity fits the cache.
* realistic: ``tasks`` tasks whose IPs are drawn from ``population`` entities with Zipf
  weights (rank ** -s): a hot head that stays cached and a long tail of first touches, the
  shape of real network data. Each task mixes plain (asn, bytes_total), observation
  (open_ports, services, hostname for some) and timeseries (traffic, one 5-minute sample).
  An entity's observed values stay the same (its rows extend): with values alternating
  at every data-point, each row stays apart and every task re-aggregates all of them,
  quadratic in a hot entity's history (a finding of this bench; the incremental merge
  folds only the tail now, its memo check stays linear; ``bench/merge.py --load
  alternating`` measures it).

Both are encoded once (``encoded``) and the same bytes are produced to every run's topic.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any


def _ip(n: int) -> str:
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


def _t0() -> datetime:
    # Recent: observations older than their max_age are refused as expired.
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)


def bench_load(entities: int, tasks_per_entity: int, dps_per_task: int) -> list[Any]:
    from streamcore.model.datapoint import DataPoint, DataPointTask

    t0 = _t0()
    tasks = []
    for round_ in range(tasks_per_entity):
        for n in range(entities):
            ip = _ip(n)
            t1 = t0 + timedelta(minutes=round_)
            points = [
                DataPoint("ip", ip, "open_ports", [22, 80, 443 + round_ % 2], t1, t1),
                DataPoint("ip", ip, "services", ["ssh", "http"], t1, t1),
                DataPoint("ip", ip, "asn", 64500 + n % 100),
                DataPoint("ip", ip, "bytes_total", 1000 * round_ + n),
            ]
            if round_ == 0:
                points.append(DataPoint("ip", ip, "hostname", f"h{n}.net{n % 50}.example", t1, t1))
            while len(points) < dps_per_task:
                points.append(DataPoint("ip", ip, "bytes_total", 1000 * round_ + n))
            tasks.append(DataPointTask("ip", ip, points[:dps_per_task]))
    return tasks


def zipf_ranks(tasks: int, population: int, s: float, seed: int = 16) -> list[int]:
    """``tasks`` entity ranks in 0..population-1, rank r drawn with weight (r + 1) ** -s."""
    weights = itertools.accumulate((r + 1) ** -s for r in range(population))
    return random.Random(seed).choices(range(population), cum_weights=list(weights), k=tasks)


def realistic_load(tasks: int, population: int, s: float) -> list[Any]:
    from streamcore.model.datapoint import DataPoint, DataPointTask

    t0 = _t0()
    out = []
    # Spread the ranks over the address space so hot entities don't share a prefix.
    for i, rank in enumerate(zipf_ranks(tasks, population, s)):
        n = rank * 2654435761 % 16_777_216
        ip = _ip(n)
        t1 = t0 + timedelta(seconds=i // 10 * 5)
        slot = t1.replace(second=0) - timedelta(minutes=t1.minute % 5)
        points = [
            DataPoint("ip", ip, "asn", 64500 + n % 100),
            DataPoint("ip", ip, "bytes_total", i),
            DataPoint("ip", ip, "open_ports", [22, 80 + n % 3], t1, t1),
            DataPoint("ip", ip, "services", ["ssh", "http"], t1, t1),
            DataPoint(
                "ip",
                ip,
                "traffic",
                {"packets": [i % 1000], "bytes": [i]},
                slot,
                slot + timedelta(minutes=5),
            ),
        ]
        if i % 4 == 0:
            points.append(DataPoint("ip", ip, "hostname", f"h{n}.example", t1, t1))
        out.append(DataPointTask("ip", ip, points))
    return out


def encoded(tasks: list[Any], model: Any) -> list[tuple[bytes, bytes]]:
    """(key, value) of each task as streamcore's producer sends it (validated, canonical)."""
    from streamcore.codec.tasks import TaskEncoder

    encoder = TaskEncoder(model)
    messages = []
    for task in tasks:
        model.validate_task(task)
        messages.append((task.routing_key().encode(), encoder.encode(task)))
    return messages
