"""Fencing tokens for input partitions: a worker that lost a partition can't overwrite
the state its successor wrote.

Cassandra resolves concurrent writes by write timestamp (the newest wins, per cell), so
fencing needs no read before each write: every state write carries a timestamp derived
from the partition's *fence* and the input offset it was computed from,

    stamp(offset) = base + (offset - start)

Each time a worker takes a partition it acquires a new fence with a lightweight
transaction on ``partition_fence``, choosing a ``base`` above every stamp the previous
owner can still produce. The previous owner can only write state computed from records
it had already fetched, all below the partition's high watermark ``hw`` at hand-over, so
its stamps are below ``old.base + (hw - old.start)``; the new base is at least that plus
one (and at least the wall clock, so stamps stay comparable with rows written without a
fence). A stalled worker that wakes up after losing its partitions therefore writes with
older timestamps than its successor and loses every conflict; its Kafka transaction is
then refused too, so nothing it produced becomes visible either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.query import SimpleStatement

from streamcore.errors import TransientStateError
from streamcore.state.faults import classified

FENCE_DDL = """
    CREATE TABLE IF NOT EXISTS {ks}.partition_fence (
        topic text,
        partition int,
        base bigint,
        start bigint,
        owner text,
        PRIMARY KEY ((topic, partition))
    )
"""

_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Fence:
    """One ownership of one partition; ``stamp`` turns an input offset into a timestamp."""

    base: int
    start: int

    def stamp(self, offset: int) -> int:
        """Never below ``base`` (an offset before ``start`` can't happen, but must not
        reach back into the previous owner's range if it did)."""
        return self.base + max(0, offset - self.start)


class PartitionFences:
    """Acquires fences in ``keyspace.partition_fence`` for ``owner`` (a worker instance)."""

    def __init__(
        self,
        session: Any,
        keyspace: str,
        owner: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._owner = owner
        self._clock = clock
        ks = keyspace
        self._select = SimpleStatement(
            f"SELECT base, start FROM {ks}.partition_fence WHERE topic = %s AND partition = %s",
            consistency_level=ConsistencyLevel.SERIAL,
        )
        self._create = SimpleStatement(
            f"INSERT INTO {ks}.partition_fence (topic, partition, base, start, owner) "
            "VALUES (%s, %s, %s, %s, %s) IF NOT EXISTS",
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.SERIAL,
        )
        self._advance = SimpleStatement(
            f"UPDATE {ks}.partition_fence SET base = %s, start = %s, owner = %s "
            "WHERE topic = %s AND partition = %s IF base = %s AND start = %s",
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.SERIAL,
        )

    def acquire(self, topic: str, partition: int, first_offset: int, high_watermark: int) -> Fence:
        """A fence for records from ``first_offset`` on; ``high_watermark`` is the
        partition's end as the broker reports it now (after the hand-over)."""
        try:
            for _ in range(_ATTEMPTS):
                now = int(self._clock() * 1_000_000)
                row = self._session.execute(self._select, (topic, partition)).one()
                if row is None:
                    base = now
                    args: tuple[Any, ...] = (topic, partition, base, first_offset, self._owner)
                    applied = self._session.execute(self._create, args).was_applied
                else:
                    base = max(now, row.base + (high_watermark - row.start) + 1)
                    args = (base, first_offset, self._owner, topic, partition, row.base, row.start)
                    applied = self._session.execute(self._advance, args).was_applied
                if applied:
                    return Fence(base, first_offset)
        except Exception as exc:
            raise classified(exc, f"fencing {topic}[{partition}]") from exc
        raise TransientStateError(f"fencing {topic}[{partition}]: lost {_ATTEMPTS} races")
