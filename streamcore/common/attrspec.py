"""``dp3.common.attrspec``: attribute specifications, with DP³'s class names."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from streamcore.model.spec import (
    ID_PATTERN,
    AttrSpecClassic,
    AttrSpecGeneric,
    AttrSpecObservations,
    AttrSpecPlain,
    AttrSpecReadOnly,
    AttrSpecTimeseries,
    AttrSpecType,
    AttrType,
    ObservationsHistoryParams,
    TimeseriesSeries,
    TimeseriesTSParams,
)

ID_REGEX = ID_PATTERN

timeseries_types: dict[str, dict[str, Any]] = {
    "regular": {"default_series": {}, "sort_by": "t1"},
    "irregular": {"default_series": {"time": {"data_type": "time"}}, "sort_by": "time"},
    "irregular_intervals": {
        "default_series": {"time_first": {"data_type": "time"}, "time_last": {"data_type": "time"}},
        "sort_by": "time_first",
    },
}
"""Each timeseries type's implicit series and the series its chunks are ordered by."""

_ADAPTER: TypeAdapter[Any] = TypeAdapter(AttrSpecType)


def AttrSpec(id: str, spec: dict[str, Any]) -> Any:  # noqa: N802, A002 (DP³'s names)
    """The attribute specification for ``spec`` (its ``type`` picks the class); ``id`` set."""
    if not isinstance(spec, dict):
        raise ValueError("Attribute specification must be a dict")  # noqa: TRY004
    if "type" not in spec:
        raise ValueError("Missing mandatory attribute `type`")
    spec["id"] = id
    return _ADAPTER.validate_python(spec)


__all__ = [
    "ID_REGEX",
    "AttrSpec",
    "AttrSpecClassic",
    "AttrSpecGeneric",
    "AttrSpecObservations",
    "AttrSpecPlain",
    "AttrSpecReadOnly",
    "AttrSpecTimeseries",
    "AttrSpecType",
    "AttrType",
    "ObservationsHistoryParams",
    "TimeseriesSeries",
    "TimeseriesTSParams",
    "timeseries_types",
]
