"""The entity model: pure code, no I/O. Specs, data-points, and their compiled validators."""

from streamcore.model.control import ControlAction, ControlMessage, DeadLetter
from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.model.datatypes import DataType, Kind, parse_data_type
from streamcore.model.modelspec import ModelSpec, build_model_spec
from streamcore.model.primitives import MACAddress, parse_duration, parse_time
from streamcore.model.spec import (
    AttrSpecClassic,
    AttrSpecGeneric,
    AttrSpecObservations,
    AttrSpecPlain,
    AttrSpecReadOnly,
    AttrSpecTimeseries,
    AttrType,
    EntitySpec,
    ImmortalLifetime,
    ObservationsHistoryParams,
    TimeseriesSeries,
    TimeseriesTSParams,
    TimeToLiveLifetime,
    WeakLifetime,
)

__all__ = [
    "AttrSpecClassic",
    "AttrSpecGeneric",
    "AttrSpecObservations",
    "AttrSpecPlain",
    "AttrSpecReadOnly",
    "AttrSpecTimeseries",
    "AttrType",
    "ControlAction",
    "ControlMessage",
    "DataPoint",
    "DataPointTask",
    "DataType",
    "DeadLetter",
    "EntitySpec",
    "ImmortalLifetime",
    "Kind",
    "Link",
    "MACAddress",
    "ModelSpec",
    "ObservationsHistoryParams",
    "TimeToLiveLifetime",
    "TimeseriesSeries",
    "TimeseriesTSParams",
    "WeakLifetime",
    "build_model_spec",
    "parse_data_type",
    "parse_duration",
    "parse_time",
]
