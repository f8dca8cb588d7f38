"""Entity records a worker keeps between batches, per owned partition.

Safe only because one partition has one owner: every task of an entity arrives on the
partition its key hashes to, so while we own it nobody else writes that entity. On
revocation (or any failed batch) the affected records are dropped and re-read.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from streamcore.kafka.consumer import Partition
from streamcore.state.record import EntityRecord

EntityKey = tuple[str, Any]


class EntityCache:
    def __init__(self, max_entities: int) -> None:
        self.max_entities = max_entities
        self._records: OrderedDict[EntityKey, tuple[Partition, EntityRecord]] = OrderedDict()

    def get(self, key: EntityKey) -> EntityRecord | None:
        found = self._records.get(key)
        if found is None:
            return None
        self._records.move_to_end(key)
        return found[1]

    def put(self, key: EntityKey, partition: Partition, record: EntityRecord) -> None:
        if self.max_entities <= 0:
            return
        self._records[key] = (partition, record)
        self._records.move_to_end(key)
        while len(self._records) > self.max_entities:
            self._records.popitem(last=False)

    def drop(self, keys: list[EntityKey]) -> None:
        for key in keys:
            self._records.pop(key, None)

    def drop_partitions(self, partitions: list[Partition]) -> None:
        gone = set(partitions)
        for key in [k for k, (p, _) in self._records.items() if p in gone]:
            del self._records[key]

    def __len__(self) -> int:
        return len(self._records)
