"""Specifications of entity types and attributes, as written in ``db_entities/*.yml``.

Pydantic models, because they are read from configuration files (the edge); their class
and attribute names follow DP³ (``AttrSpecObservations.history_params.max_age``,
``AttrType.OBSERVATIONS``, ``EntitySpec.id_data_type``) so ported modules keep working.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Flag
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    field_validator,
    model_validator,
)

from streamcore.model.datatypes import EID_TYPES, SERIES_TYPES, DataType, Kind, parse_data_type
from streamcore.model.primitives import parse_duration

ID_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_-]*$"


def _duration_or_none(value: Any) -> Any:
    if value is None or value == "inf":
        return None
    return parse_duration(value)


def _data_type(value: Any) -> DataType:
    return value if isinstance(value, DataType) else parse_data_type(value)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
OptionalDuration = Annotated[timedelta | None, BeforeValidator(_duration_or_none)]
DataTypeField = Annotated[DataType, BeforeValidator(_data_type)]


class SpecModel(BaseModel):
    """Base of every spec: unknown keys are errors, so typos are reported, not ignored."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)


class AttrType(Flag):
    """Attribute kinds; a Flag, so ``AttrType.PLAIN | AttrType.OBSERVATIONS`` selects both."""

    PLAIN = 1
    OBSERVATIONS = 2
    TIMESERIES = 4


class ImmortalLifetime(SpecModel):
    """The entity is never removed (the default)."""

    type: Literal["immortal"]


class TimeToLiveLifetime(SpecModel):
    """The entity is removed when all its TTL tokens have expired."""

    type: Literal["ttl"]
    on_create: Duration
    mirror_data: bool = True


class WeakLifetime(SpecModel):
    """The entity is removed when nothing links to it any more."""

    type: Literal["weak"]


Lifetime = Annotated[
    ImmortalLifetime | TimeToLiveLifetime | WeakLifetime, Field(discriminator="type")
]


class EntitySpec(SpecModel):
    """One entity type: its id, the data type of its entity ids, lifetime and snapshots."""

    id: str = Field(pattern=ID_PATTERN)
    id_data_type: DataTypeField = parse_data_type("string")
    name: str
    snapshot: bool
    lifetime: Lifetime = ImmortalLifetime(type="immortal")
    description: str = ""

    @field_validator("id_data_type")
    @classmethod
    def _eid_type(cls, value: DataType) -> DataType:
        if value.root not in EID_TYPES:
            raise ValueError(f"entity ids must be one of {', '.join(EID_TYPES)}, not '{value}'")
        return value

    def validate_eid(self, v: Any) -> Any:
        """``v`` as this type's canonical entity id (``ValueError`` if it is not one), as
        DP³'s ``EntitySpec.validate_eid``."""
        from streamcore.model.values import eid_parser

        return eid_parser(self.id_data_type.root)(v)

    @property
    def eid_type(self) -> Any:
        """DP³'s name for the callable that checks and converts entity ids."""
        return self.validate_eid


class LenientSpecModel(SpecModel):
    """A spec DP³ reads ignoring unknown keys: they are kept (``model_extra``) and
    ``check-config`` warns about each, so a DP³ model loads and a typo is still seen."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, frozen=True)


class ObservationsHistoryParams(LenientSpecModel):
    """How long observation values are kept and how far they are valid around t1..t2."""

    max_age: OptionalDuration = None
    max_items: PositiveInt | None = None
    expire_time: OptionalDuration = None
    pre_validity: Duration = timedelta()
    post_validity: Duration = timedelta()
    aggregate: bool = True


class TimeseriesTSParams(LenientSpecModel):
    """How long timeseries values are kept and, for regular series, the sampling step."""

    max_age: OptionalDuration = None
    time_step: OptionalDuration = None


class TimeseriesSeries(LenientSpecModel):
    """One series of a timeseries attribute; its values are int, int64, float or time."""

    data_type: DataTypeField

    @field_validator("data_type")
    @classmethod
    def _series_type(cls, value: DataType) -> DataType:
        if value.root not in SERIES_TYPES:
            raise ValueError(f"series must be one of {', '.join(SERIES_TYPES)}, not '{value}'")
        return value


class AttrSpecGeneric(SpecModel):
    """What every attribute has."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    description: str = ""
    ttl: Duration = timedelta()


class AttrSpecClassic(AttrSpecGeneric):
    """Attributes holding one value of ``data_type`` at a time (plain and observations)."""

    data_type: DataTypeField
    editable: bool = False

    @property
    def is_iterable(self) -> bool:
        return self.data_type.iterable

    @property
    def element_type(self) -> DataType:
        return self.data_type.elem_type

    @property
    def _link_type(self) -> DataType | None:
        data_type = self.data_type.elem if self.data_type.iterable else self.data_type
        return data_type if data_type is not None and data_type.kind is Kind.LINK else None

    @property
    def is_relation(self) -> bool:
        """Whether the attribute links to another entity (directly or in an array/set)."""
        return self._link_type is not None

    @property
    def relation_to(self) -> str:
        """The linked entity type; ``ValueError`` if the attribute is not a link."""
        link = self._link_type
        if link is None:
            raise ValueError(f"attribute '{self.id}' is not a link")
        return link.get_linked_entity()

    @property
    def is_mirrored(self) -> bool:
        link = self._link_type
        return link is not None and link.mirror_link

    @property
    def mirror_as(self) -> str | None:
        link = self._link_type
        return link.mirror_as if link is not None else None


class AttrSpecPlain(AttrSpecClassic):
    """Current value only, no history."""

    type: Literal["plain"]

    @property
    def t(self) -> AttrType:
        return AttrType.PLAIN


class AttrSpecReadOnly(AttrSpecPlain):
    """A plain attribute the platform fills (link mirrors); data-points for it are refused."""


class AttrSpecObservations(AttrSpecClassic):
    """Values valid over intervals, with history, optional confidence and multiple values."""

    type: Literal["observations"]
    confidence: bool = False
    multi_value: bool = False
    history_params: ObservationsHistoryParams = Field(default_factory=ObservationsHistoryParams)
    history_force_graph: bool = False

    @property
    def t(self) -> AttrType:
        return AttrType.OBSERVATIONS


class AttrSpecTimeseries(AttrSpecGeneric):
    """Numeric series sampled over time; the implicit time series are added here."""

    type: Literal["timeseries"]
    timeseries_type: Literal["regular", "irregular", "irregular_intervals"]
    series: dict[Annotated[str, Field(pattern=ID_PATTERN)], TimeseriesSeries]
    timeseries_params: TimeseriesTSParams = TimeseriesTSParams()

    @property
    def t(self) -> AttrType:
        return AttrType.TIMESERIES

    @property
    def unstorable(self) -> str | None:
        """Why this attribute's data-points can't be taken (None: they can): DP³ accepts
        such a definition and fails on its data-points; so does streamcore, saying why."""
        if not set(self.series) - set(IMPLICIT_SERIES[self.timeseries_type]):
            return "the timeseries declares no series"
        if self.timeseries_type == "regular" and self.timeseries_params.time_step is None:
            return "the regular timeseries has no timeseries_params.time_step"
        return None

    @model_validator(mode="after")
    def _implicit_series(self) -> AttrSpecTimeseries:
        # No series, or a regular one without time_step: accepted as DP³ accepts them; its
        # data-points are refused (``unstorable``), and check-config warns.
        implicit = IMPLICIT_SERIES[self.timeseries_type]
        for name in implicit:
            if name in self.series:
                raise ValueError(
                    f"series '{name}' is implicit for {self.timeseries_type} timeseries"
                )
        time = TimeseriesSeries(data_type=parse_data_type("time"))
        object.__setattr__(self, "series", {**self.series, **dict.fromkeys(implicit, time)})
        return self


IMPLICIT_SERIES: dict[str, tuple[str, ...]] = {
    "regular": (),
    "irregular": ("time",),
    "irregular_intervals": ("time_first", "time_last"),
}

AttrSpecType = Annotated[
    AttrSpecPlain | AttrSpecObservations | AttrSpecTimeseries, Field(discriminator="type")
]


def history_max_age(spec: object) -> timedelta | None:
    """How long an attribute's rows stay after their end (None: plain, or kept forever)."""
    if isinstance(spec, AttrSpecObservations):
        return spec.history_params.max_age
    if isinstance(spec, AttrSpecTimeseries):
        return spec.timeseries_params.max_age
    return None
