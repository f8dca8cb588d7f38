"""Data-point aggregation as a repair: merge stored rows that the merge rules say are one.

DP³ stores raw observations and merges same-value, overlapping ones on
``aggregation_schedule``. streamcore merges while ingesting (``state/merge.py``): a new
data-point is folded into every stored row of its value that it overlaps, so stored rows of
one value never overlap each other, and a periodic pass finds nothing to do. Rows can still
overlap when the model changed under them (``aggregate`` switched on, ``pre_validity`` or
``post_validity`` widened); this pass finds those groups.

A group is repaired by sending one data-point spanning it (``t1`` of its first row to the
last ``t2``, confidence the mean of the rows) to the input topic: the owning worker merges
it with every row of the group by the ordinary rule, so cache and store stay in step
(see ``collector.py`` for why nothing writes behind the worker). The repair is idempotent:
once merged, the group is one row and the next pass sends nothing. Like any data-point it
is seen by ``on_new_attr`` hooks. A row lying wholly inside another row of the same value
is left alone (the merge rule treats the repair as already held); it changes no current
value.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from streamcore.history.scan import EntityScan, scan_records
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations
from streamcore.state.record import EntityRecord, Row
from streamcore.updater.updater import TaskSink

log = logging.getLogger(__name__)


def aggregation_repairs(record: EntityRecord, model: ModelSpec) -> list[DataPoint]:
    """One data-point per group of same-value rows that overlap within validity."""
    repairs: list[DataPoint] = []
    for attr, spec in model.entity_attributes[record.etype].items():
        if not isinstance(spec, AttrSpecObservations) or not spec.history_params.aggregate:
            continue
        by_value: dict[str, list[Row]] = defaultdict(list)
        for row in record.attrs.get(attr, {}).values():
            if row.t1 is not None and row.t2 is not None:
                by_value[row.v_json].append(row)
        reach = spec.history_params.pre_validity + spec.history_params.post_validity
        for rows in by_value.values():
            for group in _overlapping_groups(rows, reach):
                repairs.append(_spanning(record, attr, group))
    return repairs


def _overlapping_groups(rows: list[Row], reach: timedelta) -> list[list[Row]]:
    """Sweep by start: a row joins the group while ``t1 - pre <= max t2 + post``."""
    groups: list[list[Row]] = []
    group: list[Row] = []
    end = datetime.min.replace(tzinfo=UTC)
    for row in sorted(rows, key=_span):
        t1, t2 = _span(row)
        if group and t1 <= end + reach:
            group.append(row)
            end = max(end, t2)
            continue
        if len(group) > 1:
            groups.append(group)
        group, end = [row], t2
    if len(group) > 1:
        groups.append(group)
    return groups


def _span(row: Row) -> tuple[datetime, datetime]:
    assert row.t1 is not None and row.t2 is not None
    return row.t1, row.t2


def _spanning(record: EntityRecord, attr: str, group: list[Row]) -> DataPoint:
    confidences = [row.c if row.c is not None else 1.0 for row in group]
    first = group[0]
    return DataPoint(
        record.etype,
        record.eid,
        attr,
        first.value,
        t1=min(row.t1 for row in group if row.t1 is not None),
        t2=max(row.t2 for row in group if row.t2 is not None),
        c=sum(confidences) / len(confidences),
        src=first.src,
    )


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
