"""Entity records a worker keeps between batches, per owned partition.

Safe only because one partition has one owner: every task of an entity arrives on the
partition its key hashes to, so while we own it nobody else writes that entity. On
revocation (or any failed batch) the affected records are dropped and re-read.

Two tiers, least recently used out first: the ``hot_entities`` most recently used records
stay objects; older ones are kept packed (``ingest/compact.py``: a fraction of the memory,
unpacked again on their next use, which costs far less than reading them back from
Cassandra). Both together are bounded in entities (``max_entities``) and in bytes
(``max_bytes``): a packed record counts its bytes, an object record ``record_bytes``, an
estimate, since measuring a record's object graph at every put would cost more than the
cache saves (``bench/cache_memory.py`` compares both with what tracemalloc counts).
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from typing import Any

from streamcore.ingest.compact import pack, packable, unpack
from streamcore.kafka.consumer import Partition
from streamcore.state.record import EntityRecord

EntityKey = tuple[str, Any]
CACHE_OUTCOMES = ("object", "packed", "miss")
"""A lookup found the record as an object, found it packed, or missed (read from Cassandra)."""

# What CPython 3.11 allocates, measured with tracemalloc on bench/ingest.py's records: the
# record with its containers, id and key; an attribute's row dict; a row with its key, times
# and parsed value, beyond the characters of its stored text (counted twice: the text, and
# the parsed value it came from, which is about as long).
RECORD_BYTES = 1500
ATTR_BYTES = 250
ROW_BYTES = 370
SETTLED_BYTES = 250
"""An aggregated attribute's merge memo (``SettledRows``, two lists), beyond its rows'
``SETTLED_ROW_BYTES``: a pointer to each row and to its key."""
SETTLED_ROW_BYTES = 16
PACKED_ENTRY_BYTES = 250
"""A packed record beyond its bytes: the bytes object, its key and the cache's entry."""


def record_bytes(record: EntityRecord) -> int:
    """About how many bytes ``record`` holds (``RECORD_BYTES`` and the others)."""
    size = RECORD_BYTES
    for rows in record.attrs.values():
        size += ATTR_BYTES + ROW_BYTES * len(rows)
        for row in rows.values():
            size += 2 * len(row.v_json)
    for settled in record.settled.values():
        size += SETTLED_BYTES + SETTLED_ROW_BYTES * len(settled.keys)
    return size


class EntityCache:
    """``max_entities`` / ``max_bytes`` of 0: that bound is off (``max_entities`` 0 keeps
    nothing at all). ``hot_entities`` None: every record stays an object."""

    def __init__(
        self, max_entities: int, max_bytes: int = 0, hot_entities: int | None = None
    ) -> None:
        self.max_entities = max_entities
        self.max_bytes = max_bytes
        self.hot_entities = max_entities if hot_entities is None else hot_entities
        self.bytes = 0
        """The estimated size of what is cached, both tiers."""
        self.packed_bytes = 0
        """Of which packed records."""
        self.unpacked = 0
        """Records taken out of the packed tier by ``get`` (each a read saved)."""
        self.unpackable = 0
        """Records that could not be packed (a value pickle refuses) and were let go."""
        self._hot: OrderedDict[EntityKey, tuple[Partition, EntityRecord, int]] = OrderedDict()
        self._packed: OrderedDict[EntityKey, tuple[Partition, bytes]] = OrderedDict()

    def get(self, key: EntityKey) -> EntityRecord | None:
        found = self._hot.get(key)
        if found is not None:
            self._hot.move_to_end(key)
            return found[1]
        packed = self._packed.pop(key, None)
        if packed is None:
            return None
        partition, blob = packed
        self._forget_packed(blob)
        record = unpack(blob)
        self.unpacked += 1
        self.put(key, partition, record)
        return record

    def put(self, key: EntityKey, partition: Partition, record: EntityRecord) -> None:
        if self.max_entities <= 0:
            return
        packed = self._packed.pop(key, None)
        if packed is not None:
            self._forget_packed(packed[1])
        size = record_bytes(record)
        old = self._hot.get(key)
        if old is not None:
            self.bytes -= old[2]
        self._hot[key] = (partition, record, size)
        self._hot.move_to_end(key)
        self.bytes += size
        hot, packed_tier = self._hot, self._packed
        while len(hot) > self.hot_entities:
            self._demote(*hot.popitem(last=False))
        while len(hot) + len(packed_tier) > self.max_entities or (
            self.max_bytes and self.bytes > self.max_bytes and (hot or packed_tier)
        ):
            if packed_tier:
                self._forget_packed(packed_tier.popitem(last=False)[1][1])
            else:
                self.bytes -= hot.popitem(last=False)[1][2]

    def _demote(self, key: EntityKey, entry: tuple[Partition, EntityRecord, int]) -> None:
        """Pack a record leaving the hot tier (or let it go when it can't be packed)."""
        partition, record, size = entry
        self.bytes -= size
        if not packable(record):
            return
        try:
            blob = pack(record)
        except (pickle.PicklingError, TypeError, AttributeError):
            self.unpackable += 1
            return
        self._packed[key] = (partition, blob)
        added = len(blob) + PACKED_ENTRY_BYTES
        self.bytes += added
        self.packed_bytes += added

    def _forget_packed(self, blob: bytes) -> None:
        size = len(blob) + PACKED_ENTRY_BYTES
        self.bytes -= size
        self.packed_bytes -= size

    def drop(self, keys: list[EntityKey]) -> None:
        for key in keys:
            found = self._hot.pop(key, None)
            if found is not None:
                self.bytes -= found[2]
            packed = self._packed.pop(key, None)
            if packed is not None:
                self._forget_packed(packed[1])

    def drop_partitions(self, partitions: list[Partition]) -> None:
        gone = set(partitions)
        keys = [k for k, (p, _, _) in self._hot.items() if p in gone]
        keys += [k for k, (p, _) in self._packed.items() if p in gone]
        self.drop(keys)

    @property
    def packed(self) -> int:
        """How many records are kept packed."""
        return len(self._packed)

    def __len__(self) -> int:
        return len(self._hot) + len(self._packed)
