"""``Snapshotter``: snapshots of a group of entities, with their linked entities loaded.

The worker hands it the records of the entities it owns in a task (each entity is owned
by exactly one task of a run); for them, in DP³'s order:

1. timeseries hooks on each timeseries history; plain values they derive for the entity
   itself are folded into its values (their tasks go to the input topic as well);
2. current values at the snapshot time (``values.current_values``), with mirrored links
   from the link index (``state/links.py``);
3. linked entities: every entity reachable through the links correlation hooks traverse
   (``used_links``, followed transitively, level by level, one batched load per level) is
   loaded and its current values computed, so hooks see linked current values;
4. correlation hooks in dependency order over owned and linked entities together; a
   hook's returned tasks are kept only when it ran on an owned entity (a linked entity's
   hooks run again, for real, in the task that owns it, so nothing is emitted twice);
5. the owned entities' values are the snapshots.

Bound: a linked component (entities connected by used links) stops growing at
``max_component`` entities. Entities beyond the bound are not loaded: their links carry
the stub record ``{"eid": ...}``, the component is counted in ``oversized_components`` and
logged once with a warning. Memory per call is therefore at most the owned records plus
``max_component`` linked ones per component.

Linked records are cached for the run (``cache_entities`` at most; the cache is dropped
when a call has another snapshot time): entities linked from many tasks, e.g. a domain
of many ips, are read once per run and worker, not once per task.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from streamcore.model.datapoint import DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.module.refresh import write_plain_values
from streamcore.snapshot import links
from streamcore.snapshot.hooks import SnapshotHooks
from streamcore.snapshot.values import current_values, timeseries_history
from streamcore.state.links import LinkAttrs
from streamcore.state.master import master_record
from streamcore.state.record import EntityRecord

log = logging.getLogger(__name__)

EntityKey = tuple[str, Any]


class RecordLoader(Protocol):
    def load(self, keys: Sequence[tuple[str, Any]]) -> list[EntityRecord]: ...


class LinkIndex(Protocol):
    """Who links to an entity (``CassandraStore.links_to``), for mirrored links."""

    def links_to(self, etype: str, eid_key: str) -> list[tuple[str, str, Any]]: ...


@dataclass
class SnapshotResult:
    snapshots: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    """(entity type, eid, values) of every owned entity."""
    tasks: list[DataPointTask] = field(default_factory=list)
    linked_loaded: int = 0
    oversized_components: int = 0


class Snapshotter:
    def __init__(
        self,
        model: ModelSpec,
        hooks: SnapshotHooks,
        loader: RecordLoader,
        used_links: set[tuple[str, str]],
        *,
        keep_empty: bool = True,
        max_component: int = 10_000,
        cache_entities: int = 200_000,
        link_index: LinkIndex | None = None,
    ) -> None:
        self._model = model
        self._link_index = link_index
        self._mirrors = LinkAttrs(model).mirrors
        self._hooks = hooks
        self._loader = loader
        self._links = links.link_attrs(model, used_links)
        self._keep_empty = keep_empty
        self._max_component = max_component
        self.snapshot_types = frozenset(
            etype for etype, spec in model.entities.items() if spec.snapshot
        )
        self._timeseries = {etype: hooks.timeseries_attrs(etype) for etype in model.entities}
        self._cache: dict[EntityKey, EntityRecord] = {}
        self._cache_time: datetime | None = None
        self._cache_limit = cache_entities

    def snapshot(self, records: Sequence[EntityRecord], time: datetime) -> SnapshotResult:
        """Snapshots of ``records`` (those of snapshot types that exist) at ``time``."""
        result = SnapshotResult()
        if time != self._cache_time or len(self._cache) > self._cache_limit:
            self._cache, self._cache_time = {}, time
        owned: dict[EntityKey, EntityRecord] = {}
        loaded: dict[EntityKey, dict[str, Any]] = {}
        for record in records:
            if record.etype not in self.snapshot_types or not record.exists:
                continue
            key = (record.etype, record.eid)
            owned[key] = record
            loaded[key] = self._own_values(record, time, result)
        context = self._load_linked(loaded, time, result)
        stored = {**context, **owned}
        links.attach(self._links, loaded, self._keep_empty)

        masters: dict[EntityKey, dict[str, Any]] = {}

        def master(key: EntityKey) -> dict[str, Any]:
            if key not in masters:
                record = stored.get(key)
                masters[key] = master_record(record, self._model) if record else {"_id": key[1]}
            return masters[key]

        def emit(key: EntityKey | None, tasks: list[DataPointTask]) -> None:
            if key in owned:
                result.tasks.extend(tasks)

        self._hooks.run_correlation(loaded, master, emit)
        for (etype, _), values in loaded.items():
            links.detach(self._links, etype, values)
        result.snapshots = [(etype, eid, loaded[etype, eid]) for etype, eid in owned]
        return result

    def _own_values(
        self, record: EntityRecord, time: datetime, result: SnapshotResult
    ) -> dict[str, Any]:
        derived: list[DataPointTask] = []
        for attr in self._timeseries[record.etype]:
            if record.attrs.get(attr):
                history = timeseries_history(record, attr)
                derived.extend(self._hooks.run_timeseries(record.etype, attr, history))
        values = self._current_values(record, time)
        if derived:
            write_plain_values(self._model, derived, values)
            result.tasks.extend(derived)
        return values

    def _current_values(self, record: EntityRecord, time: datetime) -> dict[str, Any]:
        """Current values plus the mirrored links (DP³'s ``add_mirrored_links``): each
        mirror attribute lists the entities whose link attribute points at this one now."""
        values = current_values(self._model, record, time)
        mirrors = self._mirrors.get(record.etype)
        if mirrors and self._link_index is not None:
            found = self._link_index.links_to(record.etype, record.eid_key)
            for name, (source, attr) in mirrors.items():
                values[name] = [
                    {"eid": self._model.parse_eid(source, eid)}
                    for etype, link_attr, eid in found
                    if (etype, link_attr) == (source, attr)
                ]
        return values

    def _load_linked(
        self, loaded: dict[EntityKey, dict[str, Any]], time: datetime, result: SnapshotResult
    ) -> dict[EntityKey, EntityRecord]:
        """Load linked entities level by level into ``loaded``; their records."""
        if not self._links:
            return {}
        components = _Components()
        context: dict[EntityKey, EntityRecord] = {}
        fresh = list(loaded)
        while fresh:
            frontier: dict[EntityKey, None] = {}  # ordered and O(1) membership
            for key in fresh:
                for target in links.targets(self._links, key[0], loaded[key]):
                    components.union(key, target)
                    if target not in loaded:
                        frontier[target] = None
            wanted = [key for key in frontier if not self._oversized(components, key, result)]
            records = self._load(wanted)
            fresh = []
            for record in records:
                key = (record.etype, record.eid)
                if record.exists:
                    context[key] = record
                    loaded[key] = self._current_values(record, time)
                    fresh.append(key)
        result.linked_loaded += len(context)
        return context

    def _load(self, keys: list[EntityKey]) -> list[EntityRecord]:
        missing = [key for key in keys if key not in self._cache]
        if missing:
            for record in self._loader.load(missing):
                self._cache[record.etype, record.eid] = record
        return [self._cache[key] for key in keys]

    def _oversized(self, components: _Components, key: EntityKey, result: SnapshotResult) -> bool:
        root = components.find(key)
        if components.size[root] <= self._max_component:
            return False
        if root not in components.reported:
            components.reported.add(root)
            result.oversized_components += 1
            log.warning(
                "Linked component of %s/%s has more than %d entities; entities beyond the "
                "limit appear as link stubs in this snapshot run",
                key[0],
                key[1],
                self._max_component,
            )
        return True


class _Components:
    """Union-find over entity keys, with component sizes."""

    def __init__(self) -> None:
        self.parent: dict[EntityKey, EntityKey] = {}
        self.size: dict[EntityKey, int] = {}
        self.reported: set[EntityKey] = set()

    def find(self, key: EntityKey) -> EntityKey:
        if key not in self.parent:
            self.parent[key] = key
            self.size[key] = 1
            return key
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: EntityKey, b: EntityKey) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        if rb in self.reported:
            self.reported.add(ra)
