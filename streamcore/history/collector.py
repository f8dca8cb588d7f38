"""``GarbageCollector``: removes entities whose lifetime is over (``garbage_collector.yml``).

Runs as one scheduler job on ``collection_rate`` (DP³'s default: daily at 03:00), once per
cluster. For each ``ttl`` entity type it reads every record and picks those whose tokens
have all expired (and asks the owning worker to drop the expired tokens of the others, as
DP³'s ``remove_expired_ttls``); for each ``weak`` type it gathers the live links of every
referring type and picks the entities nobody links to (``lifetimes.py`` decides).

It never deletes in Cassandra itself: it sends ``DataPointTask(delete=True)`` for each
entity to the input topic, and the worker owning the entity's partition applies it in
order with the entity's other tasks. That worker may hold the record in its cache; a
delete behind its back would be undone by the next write from that cache. Through the
topic, the cache, ``entity_state`` and ``entity_index`` change together. The price is a
window: data arriving between the collector's read and the delete is deleted with the
entity (DP³ has the same window between its read and ``delete_eids``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from streamcore.config.sections import GarbageCollectorConfig
from streamcore.errors import ConfigError
from streamcore.history.lifetimes import linked_eids, referrers, ttl_expired, ttl_types, weak_types
from streamcore.history.scan import EntityScan, scan_eids, scan_records
from streamcore.model.datapoint import PRUNE_TTL_TAG, DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.updater.updater import TaskSink

log = logging.getLogger(__name__)

__all__ = ["GarbageCollector", "GarbageCollectorConfig"]


class GarbageCollector:
    def __init__(
        self,
        model: ModelSpec,
        store: EntityScan,
        sink: TaskSink,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.model = model
        self.store = store
        self.sink = sink
        self.clock = clock
        self.referrers = {etype: referrers(model, etype) for etype in weak_types(model)}
        lonely = [etype for etype, found in self.referrers.items() if not found]
        if lonely:
            raise ConfigError(
                f"entity types {', '.join(lonely)} have a weak lifetime, "
                "but no other entity type links to them"
            )
        self.stats: Counter[str] = Counter()
        """scanned, deleted (delete tasks sent), pruned (prune-ttl tasks sent)."""

    def collect(self) -> int:
        """One collection over every TTL and weak entity type; returns the deletes sent."""
        now = self.clock()
        deleted = sum(self._collect_ttl(etype, now) for etype in ttl_types(self.model))
        deleted += sum(self._collect_weak(etype, now) for etype in self.referrers)
        undelivered = self.sink.flush(60.0)
        if undelivered:
            raise RuntimeError(f"garbage collector: {undelivered} delete tasks not delivered")
        return deleted

    def _collect_ttl(self, etype: str, now: datetime) -> int:
        expired = []
        for record in scan_records(self.store, etype):
            self.stats["scanned"] += 1
            if ttl_expired(record, now):
                expired.append(record.eid)
            elif any(expires < now for expires in record.ttl_tokens.values()):
                # DP³'s remove_expired_ttls, through the worker like the deletes
                self.sink.send(DataPointTask(etype, record.eid, tags=[PRUNE_TTL_TAG]))
                self.stats["pruned"] += 1
        return self._delete(etype, expired, "all TTL tokens expired")

    def _collect_weak(self, etype: str, now: datetime) -> int:
        referenced: set[Any] = set()
        for source, attrs in self.referrers[etype].items():
            for record in scan_records(self.store, source):
                referenced |= linked_eids(record, attrs, self.model, now)
        orphans = []
        for eid in scan_eids(self.store, etype):
            self.stats["scanned"] += 1
            if eid not in referenced:
                orphans.append(eid)
        return self._delete(etype, orphans, "no entity links to it")

    def _delete(self, etype: str, eids: list[Any], reason: str) -> int:
        for eid in eids:
            self.sink.send(DataPointTask(etype, eid, delete=True))
        self.stats["deleted"] += len(eids)
        if eids:
            log.info("garbage collector: deleting %d %s entities (%s)", len(eids), etype, reason)
        return len(eids)
