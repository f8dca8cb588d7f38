"""Whole-type scans for the housekeeping jobs: ids bucket by bucket, records in chunks.

Memory stays bounded by one index bucket and one chunk of records, whatever the number of
entities of the type; records of entities deleted since the index was read are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from streamcore.state.record import EntityRecord
from streamcore.state.schema import INDEX_BUCKETS

CHUNK = 500


class EntityScan(Protocol):
    """What a scan needs of ``CassandraStore``."""

    def bucket_eids(self, etype: str, buckets: Iterable[int]) -> list[tuple[str, Any]]: ...
    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]: ...


def scan_eids(store: EntityScan, etype: str) -> Iterator[Any]:
    """Every stored entity id of ``etype``."""
    for bucket in range(INDEX_BUCKETS):
        for _, eid in store.bucket_eids(etype, [bucket]):
            yield eid


def scan_records(store: EntityScan, etype: str, chunk: int = CHUNK) -> Iterator[EntityRecord]:
    """Every existing record of ``etype``."""
    for bucket in range(INDEX_BUCKETS):
        ids = [eid for _, eid in store.bucket_eids(etype, [bucket])]
        for start in range(0, len(ids), chunk):
            for record in store.load([(etype, eid) for eid in ids[start : start + chunk]]):
                if record.exists:
                    yield record
