"""Data-point aggregation as a repair: merge stored rows that DP³'s aggregation says are one.

DP³ stores raw observations and merges them on ``aggregation_schedule`` with
``aggregate_dp_history_on_equal``. streamcore runs the same function while ingesting
(``state/merge.py``), so stored rows are already its fixed point and a periodic pass finds
nothing to do. Rows can still be mergeable when the model changed under them
(``aggregate`` switched on, ``pre_validity`` or ``post_validity`` widened); this pass
finds those groups with the same function.

A group is repaired by sending one data-point spanning it (``t1`` of its first row to the
last ``t2``, confidence the mean of the rows) to the input topic: the owning worker
aggregates it with the group's rows by the ordinary rule, which gives one row of that
span and confidence, so cache and store stay in step (see ``collector.py`` for why
nothing writes behind the worker). Once merged, the group is one row and the next pass
sends nothing. Like any data-point it is seen by ``on_new_attr`` hooks.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from streamcore.history.scan import EntityScan, scan_records
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations
from streamcore.state.merge import aggregate_on_equal, stored_rows
from streamcore.state.record import EntityRecord
from streamcore.updater.updater import TaskSink

log = logging.getLogger(__name__)


def aggregation_repairs(record: EntityRecord, model: ModelSpec) -> list[DataPoint]:
    """One data-point per group of stored rows that DP³'s aggregation merges into one."""
    repairs: list[DataPoint] = []
    for attr, spec in model.entity_attributes[record.etype].items():
        if not isinstance(spec, AttrSpecObservations) or not spec.history_params.aggregate:
            continue
        params = spec.history_params
        merged = aggregate_on_equal(
            stored_rows(record.attrs.get(attr, {})),
            params.pre_validity,
            params.post_validity,
            spec.multi_value,
        )
        for point in merged:
            if point.key is None:  # more than one stored row went into it
                repairs.append(
                    DataPoint(
                        record.etype,
                        record.eid,
                        attr,
                        point.value,
                        t1=point.t1,
                        t2=point.t2,
                        c=point.c,
                        src=point.src,
                    )
                )
    return repairs


class HistoryManager:
    """The ``aggregation_schedule`` job: scan types with aggregated observations, repair."""

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
        self.stats: Counter[str] = Counter()
        """scanned, repaired_entities, repairs."""
        self.etypes = [
            etype
            for etype, specs in model.entity_attributes.items()
            if any(
                isinstance(s, AttrSpecObservations) and s.history_params.aggregate
                for s in specs.values()
            )
        ]

    def aggregate(self) -> int:
        """One pass over every entity with aggregated observations; returns repairs sent."""
        sent = 0
        for etype in self.etypes:
            for record in scan_records(self.store, etype):
                self.stats["scanned"] += 1
                repairs = aggregation_repairs(record, self.model)
                if repairs:
                    self.sink.send(DataPointTask(etype, record.eid, repairs))
                    self.stats["repaired_entities"] += 1
                    sent += len(repairs)
        self.stats["repairs"] += sent
        undelivered = self.sink.flush(60.0)
        if undelivered:
            raise RuntimeError(f"aggregation: {undelivered} repair tasks not delivered")
        if sent:
            log.info("aggregation: %d overlapping groups sent for merging", sent)
        return sent
