"""One task applied to one entity's record, with DP³'s ingestion hooks in DP³'s order.

A platform task runs no hook: an unlink task (``state/links.py``) removes the record's
links to a deleted entity, a prune-ttl task (the garbage collector's) its expired TTL
tokens. Any other task, in DP³'s ``TaskExecutor`` order: ``on_task_start`` ->
delete (derives the unlink tasks for the entities linking to it)? -> if the entity is new:
``allow_entity_creation`` (abort when refused) -> ``on_entity_creation`` -> stage the TTL
tokens and data-points (pruning expired tokens, DP³'s ``remove_expired_ttls``) ->
``on_new_attr`` for each data-point. Pure apart from the hooks themselves and a delete's
read of the link index: the record is changed in memory and written by the worker.

Replays: the creating task's origin (topic:partition:offset) is stored with the entity, so a
task replayed after a crash runs the creation hooks again and re-derives what the aborted
transaction lost; data-point merging rewrites the same rows (``state/merge.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from streamcore.ingest.hook_runner import IngestionHookRunner
from streamcore.model.datapoint import DataPoint, DataPointTask, platform_task
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations, AttrSpecTimeseries
from streamcore.state.links import (
    LinkAttrs,
    parse_unlink,
    remove_links,
    replaced_links,
    unlink_task,
)
from streamcore.state.merge import (
    apply_observations,
    apply_plain,
    apply_timeseries,
    creation_tokens,
    extend_ttl,
    lifetime_rule,
    prune_expired_tokens,
    to_millis,
)
from streamcore.state.record import EntityRecord


class LinkIndex(Protocol):
    """Who links to an entity (``CassandraStore.links_to``; ``state/links.py``)."""

    def links_to(self, etype: str, eid_key: str) -> list[tuple[str, str, Any]]:
        """(linking type, link attribute, linking entity's id) of every link to it."""
        ...


class TaskProcessor:
    """``enforce_max_items``: keep at most ``max_items`` observation rows (opt-in; DP³
    documents ``max_items`` as not implemented and keeps every row)."""

    def __init__(
        self,
        model: ModelSpec,
        hooks: IngestionHookRunner,
        *,
        enforce_max_items: bool = False,
        links: LinkIndex | None = None,
    ) -> None:
        self.model = model
        self.hooks = hooks
        self.enforce_max_items = enforce_max_items
        self.links = links
        self.link_attrs = LinkAttrs(model)
        # Per attribute, what its data-points do to the entity's TTL tokens (mostly nothing).
        self._lifetimes = {
            etype: {
                attr: lifetime_rule(model.entities[etype], spec) for attr, spec in specs.items()
            }
            for etype, specs in model.entity_attributes.items()
        }

    def process(
        self, record: EntityRecord, task: DataPointTask, origin: str, now: datetime
    ) -> list[DataPointTask]:
        """Apply ``task`` to ``record``; returns the tasks the hooks derived."""
        hooks = self.hooks
        etype, eid = task.etype, task.eid
        if platform_task(task) is not None:
            self._platform_task(record, task, now)
            return []
        hooks.run_task_start(task)
        if task.delete:
            return self._delete(record)
        derived: list[DataPointTask] = []
        if not record.exists or record.created_by == origin:
            if not hooks.allow_creation(etype, eid, task):
                return []
            record.exists = True
            record.created = record.created or to_millis(now)
            record.created_by = origin
            record.dirty_meta = True
            record.indexed = False
            extend_ttl(record, creation_tokens(self.model.entities[etype], now))
            derived.extend(hooks.run_entity_creation(etype, eid, task))
        if task.ttl_tokens:
            extend_ttl(record, task.ttl_tokens)
        self._apply(record, task.data_points, now)
        prune_expired_tokens(record, now)
        for dp in task.data_points:
            derived.extend(hooks.run_new_attr(etype, eid, dp))
        return derived

    @staticmethod
    def _platform_task(record: EntityRecord, task: DataPointTask, now: datetime) -> None:
        """Unlink (``state/links.py``) or prune expired TTL tokens; an entity that is gone
        stays gone."""
        if not record.exists:
            return
        unlink = parse_unlink(task)
        if unlink is not None:
            remove_links(record, unlink)
        else:
            prune_expired_tokens(record, now)

    def _delete(self, record: EntityRecord) -> list[DataPointTask]:
        """Clear the record; what it linked to leaves the link index with it, and every
        entity linking to it is asked to remove those links (DP³'s ``LinkManager``)."""
        dropped = list(self.link_attrs.targets(record))
        unlinks = []  # even if it was never stored: links may point at it (DP³: the same)
        if self.links is not None:
            target = (record.etype, record.eid_key)
            for source_etype, attr, source_eid in self.links.links_to(*target):
                unlinks.append(unlink_task(source_etype, source_eid, (attr, *target)))
        record.clear()
        record.dropped_links = dropped
        return unlinks

    def _apply(self, record: EntityRecord, dps: list[DataPoint], now: datetime) -> None:
        """Fold one task's data-points into ``record``; observations of one attribute are
        aggregated together (one pass of DP³'s aggregation, ``state/merge.py``)."""
        specs = self.model.entity_attributes[record.etype]
        lifetimes = self._lifetimes[record.etype]
        plain_links = self.link_attrs.of.get(record.etype, {})
        now_ms = to_millis(now)
        observed: dict[str, list[DataPoint]] = {}
        for dp in dps:
            spec = specs[dp.attr]
            if isinstance(spec, AttrSpecObservations):
                observed.setdefault(dp.attr, []).append(dp)
            elif isinstance(spec, AttrSpecTimeseries):
                apply_timeseries(record, dp)
            elif dp.attr in plain_links:
                old = record.plain(dp.attr)
                apply_plain(record, dp, now_ms)
                replaced_links(record, dp.attr, plain_links[dp.attr][0], old)
            else:
                apply_plain(record, dp, now_ms)
            lifetime = lifetimes[dp.attr]
            if lifetime is not None:
                extend_ttl(record, lifetime.tokens(dp, now))
        for attr, points in observed.items():
            spec = specs[attr]
            assert isinstance(spec, AttrSpecObservations)
            limit = spec.history_params.max_items if self.enforce_max_items else None
            apply_observations(record, spec, points, limit)
