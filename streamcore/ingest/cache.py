"""Entity records a worker keeps between batches, per owned partition.

Safe only because one partition has one owner: every task of an entity arrives on the
partition its key hashes to, so while we own it nobody else writes that entity. On
revocation (or any failed batch) the affected records are dropped and re-read.

Bounded twice, least recently used out first: in entities (``max_entities``) and in bytes
(``max_bytes``, from ``record_bytes``: an estimate, since measuring a record's object
graph at every put would cost more than the cache saves; ``bench/cache_memory.py``
compares it with what tracemalloc counts).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from streamcore.kafka.consumer import Partition
from streamcore.state.record import EntityRecord

EntityKey = tuple[str, Any]

# What CPython 3.11 allocates, measured with tracemalloc on bench/ingest.py's records: the
# record with its containers, id and key; an attribute's row dict; a row with its key, times
# and parsed value, beyond the characters of its stored text (counted twice: the text, and
# the parsed value it came from, which is about as long).
RECORD_BYTES = 1500
ATTR_BYTES = 250
ROW_BYTES = 370


def record_bytes(record: EntityRecord) -> int:
    """About how many bytes ``record`` holds (``RECORD_BYTES`` and the others)."""
    size = RECORD_BYTES
    for rows in record.attrs.values():
        size += ATTR_BYTES + ROW_BYTES * len(rows)
        for row in rows.values():
            size += 2 * len(row.v_json)
    return size


class EntityCache:
    """``max_entities`` / ``max_bytes`` of 0: that bound is off (``max_entities`` 0 keeps
    nothing at all)."""

    def __init__(self, max_entities: int, max_bytes: int = 0) -> None:
        self.max_entities = max_entities
        self.max_bytes = max_bytes
        self.bytes = 0
        """The estimated size of what is cached (``record_bytes`` of each record)."""
        self._records: OrderedDict[EntityKey, tuple[Partition, EntityRecord, int]] = OrderedDict()

    def get(self, key: EntityKey) -> EntityRecord | None:
        found = self._records.get(key)
        if found is None:
            return None
        self._records.move_to_end(key)
        return found[1]

    def put(self, key: EntityKey, partition: Partition, record: EntityRecord) -> None:
        if self.max_entities <= 0:
            return
        size = record_bytes(record)
        old = self._records.get(key)
        if old is not None:
            self.bytes -= old[2]
        self._records[key] = (partition, record, size)
        self._records.move_to_end(key)
        self.bytes += size
        records = self._records
        while len(records) > self.max_entities or (
            self.max_bytes and self.bytes > self.max_bytes and records
        ):
            self.bytes -= records.popitem(last=False)[1][2]

    def drop(self, keys: list[EntityKey]) -> None:
        for key in keys:
            found = self._records.pop(key, None)
            if found is not None:
                self.bytes -= found[2]

    def drop_partitions(self, partitions: list[Partition]) -> None:
        gone = set(partitions)
        self.drop([k for k, (p, _, _) in self._records.items() if p in gone])

    def __len__(self) -> int:
        return len(self._records)
