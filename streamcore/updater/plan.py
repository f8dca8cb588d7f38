"""How the periodic updater splits a period into batches (pure: no I/O, no clock).

An *update thread* is DP³'s unit: the hooks sharing ``(period, entity type, eid_only)``.
Its period is cut into ``iterations = period // update_batch_period`` slices, one per
``update_batch_cron`` tick, and every stored entity of the type falls in exactly one
slice, so each one is visited once per period whatever the order of ticks or replicas.

Slices follow the ``entity_index`` layout (``INDEX_BUCKETS`` partitions by a CRC of the
entity id): with no more iterations than buckets, a slice is a run of whole buckets; with
more, each bucket is shared by consecutive slices, told apart by a second, independent hash
of the id. A slice reads only its buckets, so a period reads the index once (or, with more
iterations than buckets, ``iterations / buckets`` times, eids only).

``Progress`` (``streamcore.state.progress``) is what survives restarts: which round (period
number) and iteration is next.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from streamcore.module.hooks import HookKind, HookRegistration
from streamcore.state.schema import INDEX_BUCKETS


@dataclass(frozen=True)
class UpdateThread:
    """Hooks visiting every entity of ``etype`` once per ``period``, by ``hook_id``."""

    etype: str
    period: timedelta
    eid_only: bool
    hooks: dict[str, HookRegistration] = field(default_factory=dict)

    @property
    def thread_id(self) -> str:
        """Stable text naming the thread in claims and the progress table."""
        kind = "eid" if self.eid_only else "record"
        return f"{self.etype}:{int(self.period.total_seconds())}s:{kind}"


def update_threads(registrations: Iterable[HookRegistration]) -> list[UpdateThread]:
    """Group updater registrations into threads, in registration order."""
    threads: dict[tuple[str, timedelta, bool], UpdateThread] = {}
    for reg in registrations:
        if reg.kind not in (HookKind.PERIODIC_UPDATE, HookKind.PERIODIC_EID_UPDATE):
            continue
        assert reg.entity is not None and reg.period is not None and reg.hook_id is not None
        key = (reg.entity, reg.period, reg.kind is HookKind.PERIODIC_EID_UPDATE)
        thread = threads.setdefault(key, UpdateThread(*key))
        thread.hooks[reg.hook_id] = reg
    return list(threads.values())


def iteration_count(period: timedelta, batch_period: timedelta) -> int:
    """Slices per period (DP³: ``period // update_batch_period``, at least one)."""
    if batch_period <= timedelta():
        raise ValueError("update_batch_period must be positive")
    return max(1, period // batch_period)


@dataclass(frozen=True)
class Slice:
    """The entities of one iteration: those in ``buckets`` whose part hash is ``part``."""

    buckets: range
    part: int = 0
    parts: int = 1

    def contains(self, eid_key: str) -> bool:
        return self.parts == 1 or part_hash(eid_key) % self.parts == self.part


def plan_slice(iteration: int, iterations: int, buckets: int = INDEX_BUCKETS) -> Slice:
    """The slice of ``iteration`` (``0 <= iteration < iterations``); together the slices
    of one period cover every (bucket, part) exactly once."""
    if not 0 <= iteration < iterations:
        raise ValueError(f"iteration {iteration} is outside 0..{iterations - 1}")
    if iterations <= buckets:
        first, end = buckets * iteration // iterations, buckets * (iteration + 1) // iterations
        return Slice(range(first, end))
    bucket = buckets * iteration // iterations
    sharing = [i for i in range(iterations) if buckets * i // iterations == bucket]
    return Slice(range(bucket, bucket + 1), sharing.index(iteration), len(sharing))


def part_hash(eid_key: str) -> int:
    """Independent of the bucket's CRC, so parts of one bucket come out even."""
    return int.from_bytes(hashlib.blake2b(eid_key.encode(), digest_size=4).digest(), "big")
