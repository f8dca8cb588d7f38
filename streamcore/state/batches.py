"""Packing writes into token-aware unlogged batches, for every bulk writer of the store.

One request per row costs the driver (and the GIL) more than the row itself; one unlogged
batch per replica carries many rows in one request, and, because all its partitions live
on the replica it is routed to, it costs that node no extra coordination. Batches are
bounded in rows and bytes so none comes near Cassandra's ``batch_size_fail_threshold``.
Used by ``CassandraStore.write`` (entity state) and ``SnapshotStore.save`` (snapshots).
"""

from __future__ import annotations

from typing import Any

from cassandra.metadata import Metadata
from cassandra.query import BatchStatement, BatchType

MAX_BATCH_ROWS = 64
MAX_BATCH_BYTES = 40_000


def replica_of(metadata: Metadata, keyspace: str, statement: Any) -> Any:
    """The first replica of a bound statement's partition (None when unknown)."""
    replicas = metadata.get_replicas(keyspace, statement.routing_key)
    return replicas[0] if replicas else None


class BatchPacker:
    """Unlogged batches of at most ``MAX_BATCH_ROWS`` rows / ``MAX_BATCH_BYTES`` per replica.

    ``add`` takes the rows of one partition (bound statements with their approximate
    sizes) and keeps them in one batch whenever they fit, so a partition's changes apply
    atomically; the byte limit keeps batches under Cassandra's default
    ``batch_size_fail_threshold`` (50 KiB), and a partition larger than a batch gets
    batches of its own.
    """

    def __init__(self, consistency: int) -> None:
        self._consistency = consistency
        self._open: dict[Any, tuple[BatchStatement, int]] = {}
        self._full: list[BatchStatement] = []
        self.rows = 0

    def add(self, replica: Any, rows: list[tuple[Any, int]]) -> None:
        size = sum(n for _, n in rows)
        batch, used = self._open.get(replica, (None, 0))
        if batch is not None and (
            len(batch) + len(rows) > MAX_BATCH_ROWS or used + size > MAX_BATCH_BYTES
        ):
            self._full.append(batch)
            batch, used = None, 0
        if batch is None:
            batch = self._batch()
        for statement, n in rows:
            if len(batch) >= MAX_BATCH_ROWS or (len(batch) and used + n > MAX_BATCH_BYTES):
                self._full.append(batch)
                batch, used = self._batch(), 0
            batch.add(statement)
            used += n
        self._open[replica] = (batch, used)
        self.rows += len(rows)

    def batches(self) -> list[BatchStatement]:
        """Every batch; the packer is empty afterwards."""
        batches = self._full + [batch for batch, _ in self._open.values() if len(batch)]
        self._full, self._open = [], {}
        return batches

    def _batch(self) -> BatchStatement:
        return BatchStatement(batch_type=BatchType.UNLOGGED, consistency_level=self._consistency)
