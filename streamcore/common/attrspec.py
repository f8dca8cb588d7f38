"""``dp3.common.attrspec``: attribute specifications, with DP³'s class names."""

from streamcore.model.spec import (
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

__all__ = [
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
]
