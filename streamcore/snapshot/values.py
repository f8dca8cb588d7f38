"""An entity's current values at snapshot time, by DP³'s rules (pure, no I/O).

The result has DP³'s snapshot shape, so ported correlation hooks read the same keys:
``{"eid": eid, attr: value, "<attr>#c": confidence, ...}``.

* plain attributes: the stored value as it is;
* observations: a data-point is valid over ``[t1 - pre_validity, t2 + post_validity]``;
  its confidence ``c`` holds over ``[t1, t2]`` and falls linearly to 0 at the ends of the
  pre/post validity (``extrapolate_confidence``). Single-value: the value with the highest
  extrapolated confidence wins. ``multi_value``: every value with confidence > 0, each with
  its highest confidence, as parallel lists. ``<attr>#c`` is set for every observation
  attribute that has a current value, whether or not ``confidence`` is on (DP³ does the
  same; without confidence every data-point counts as ``c = 1``). An observation without a
  current value is left out;
* links are ``{"eid": eid}`` dicts (``{"eid": eid, "data": data}`` for ``link<t,data>``), as
  in DP³, so a hook can reach a loaded linked record as ``values[attr]["record"]``;
* timeseries are not in the values: timeseries hooks get their history
  (``timeseries_history``) and their same-entity outputs are folded in by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from streamcore.model.datapoint import Link
from streamcore.model.modelspec import ModelSpec
from streamcore.model.spec import AttrSpecObservations, AttrSpecPlain, ObservationsHistoryParams
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row


def extrapolate_confidence(row: Row, time: datetime, params: ObservationsHistoryParams) -> float:
    """The confidence of an observation row at ``time`` (0 outside its extended validity)."""
    assert row.t1 is not None and row.t2 is not None
    base = row.c if row.c is not None else 1.0
    if time < row.t1:
        pre = params.pre_validity
        if time <= row.t1 - pre:
            return 0.0
        return base * (1 - (row.t1 - time) / pre)
    if time <= row.t2:
        return base
    post = params.post_validity
    if time >= row.t2 + post:
        return 0.0
    return base * (1 - (time - row.t2) / post)


def value_at_time(
    spec: AttrSpecObservations, rows: Iterable[Row], time: datetime
) -> tuple[Any, float]:
    """The single current value and its confidence; ``(None, 0.0)`` if none is valid."""
    best: Any = None
    best_c = 0.0
    for row in rows:
        c = extrapolate_confidence(row, time, spec.history_params)
        if c > best_c:
            best, best_c = row.value, c
    return best, best_c


def multi_value_at_time(
    spec: AttrSpecObservations, rows: Iterable[Row], time: datetime
) -> tuple[list[Any], list[float]]:
    """Every value valid at ``time`` (first-seen order) with its highest confidence."""
    best: dict[str, tuple[Any, float]] = {}  # keyed by stored JSON: works for unhashables too
    for row in rows:
        c = extrapolate_confidence(row, time, spec.history_params)
        if c <= 0.0:
            continue
        held = best.get(row.v_json)
        if held is None or held[1] < c:
            best[row.v_json] = (row.value if held is None else held[0], c)
    return [v for v, _ in best.values()], [c for _, c in best.values()]


def snapshot_value(value: Any) -> Any:
    """A stored value in snapshot form: links become ``{"eid": ...}`` dicts."""
    if isinstance(value, Link):
        return {"eid": value.eid} if value.data is None else {"eid": value.eid, "data": value.data}
    if isinstance(value, list):
        return [snapshot_value(item) for item in value]
    return value


def current_values(model: ModelSpec, record: EntityRecord, time: datetime) -> dict[str, Any]:
    """The snapshot view of ``record`` at ``time``: ``{"eid": ..., attr: value, ...}``."""
    values: dict[str, Any] = {"eid": record.eid}
    specs = model.entity_attributes[record.etype]
    for attr, rows in record.attrs.items():
        if not rows:
            continue
        spec = specs.get(attr)
        if isinstance(spec, AttrSpecPlain):
            row = rows.get(PLAIN_KEY)
            if row is not None:
                values[attr] = snapshot_value(row.value)
        elif isinstance(spec, AttrSpecObservations):
            if spec.multi_value:
                many, confidences = multi_value_at_time(spec, rows.values(), time)
                if many:
                    values[attr] = [snapshot_value(v) for v in many]
                    values[f"{attr}#c"] = confidences
            else:
                one, confidence = value_at_time(spec, rows.values(), time)
                if confidence > 0.0:
                    values[attr] = snapshot_value(one)
                    values[f"{attr}#c"] = confidence
    return values


def timeseries_history(record: EntityRecord, attr: str) -> list[dict[str, Any]]:
    """A timeseries attribute's stored chunks as DP³'s ``attr_history``, oldest first:
    ``[{"t1": ..., "t2": ..., "v": {series: [values]}}, ...]``."""
    rows = record.attrs.get(attr, {})
    return [
        {"t1": row.t1, "t2": row.t2, "v": row.value}
        for _, row in sorted(rows.items(), key=lambda item: item[0])
    ]
