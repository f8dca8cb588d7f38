"""``dp3.common.datapoint``: DP³'s data-point classes, as kinds of streamcore's ``DataPoint``.

DP³ has a pydantic model per attribute kind; here each is a subclass of streamcore's
slotted ``DataPoint`` (so the hook engine takes them unchanged) with DP³'s defaults and
checks at construction (``t2`` defaults to ``t1``, naive times are UTC, ``0 <= c <= 1``,
plain data-points drop times) and DP³'s ``model_validate``/``model_dump``/
``model_dump_json``. A data-point the worker hands to a hook is a plain ``DataPoint``;
``isinstance`` against these classes looks at its fields (plain: no ``t1``; observations:
a confidence; timeseries: ``t1`` and no confidence) so DP³'s checks read the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from pydantic import ValidationError

from streamcore.common._absent import absent
from streamcore.model.datapoint import DataPoint
from streamcore.model.primitives import MACAddress

_FIELDS = ("etype", "eid", "attr", "src", "v", "c", "t1", "t2")


def to_json_friendly(v: Any) -> Any:
    """IP and MAC addresses as strings; anything else unchanged."""
    if isinstance(v, IPv4Address | IPv6Address | MACAddress):
        return str(v)
    return v


def ignore_value(_v: Any) -> None:
    """Ignore the passed value and return None."""
    return None


def is_list_ordered(to_check: list[Any]) -> bool:
    """Whether the list never decreases."""
    return all(to_check[i] <= to_check[i + 1] for i in range(len(to_check) - 1))


class _KindMeta(type):
    """``isinstance`` by the fields of any ``DataPoint`` (see the module docstring)."""

    def __instancecheck__(cls, obj: Any) -> bool:
        if type.__instancecheck__(cls, obj):
            return True
        if not isinstance(obj, DataPoint):
            return False
        test = getattr(cls, "_fits", None)
        return True if test is None else bool(test(obj))


class DataPointBase(DataPoint, metaclass=_KindMeta):
    """A data-point built the DP³ way: keywords, checked for its kind."""

    __slots__ = ()

    def __init__(self, **data: Any) -> None:
        unknown = data.keys() - set(_FIELDS)
        if unknown:
            raise _error(f"unknown fields {sorted(unknown)}")
        if "etype" not in data or "attr" not in data:
            raise _error("'etype' and 'attr' are required")
        fields: dict[str, Any] = {name: data.get(name) for name in _FIELDS}
        self._check(fields)
        super().__init__(**fields)

    def _check(self, fields: dict[str, Any]) -> None:
        """Adjust and check ``fields`` for this kind (``ValidationError`` if wrong)."""

    @classmethod
    def model_validate(cls, obj: Any) -> DataPointBase:
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, DataPoint):
            obj = obj.model_dump()
        if not isinstance(obj, dict):
            raise _error(f"expected a dict, got {type(obj).__name__}")
        return cls(**obj)

    def model_dump(self, *, mode: str = "python", **_: Any) -> dict[str, Any]:
        dumped = super().model_dump()
        if hasattr(self.v, "model_dump"):
            dumped["v"] = self.v.model_dump()
        if mode == "json":
            return json.loads(self.model_dump_json())  # type: ignore[no-any-return]
        return dumped

    def model_dump_json(self, **_: Any) -> str:
        return json.dumps(super().model_dump(), default=_json_default, separators=(",", ":"))


class DataPointPlainBase(DataPointBase):
    """A plain attribute's data-point: times are dropped, no confidence."""

    __slots__ = ()

    @staticmethod
    def _fits(dp: DataPoint) -> bool:
        return dp.t1 is None

    def _check(self, fields: dict[str, Any]) -> None:
        fields["t1"] = None
        if fields["t2"] is not None:
            raise _error("t2: a plain data-point has no times")


class DataPointObservationsBase(DataPointBase):
    """An observation: ``t1`` required, ``t2`` defaults to ``t1``, ``c`` to 1.0."""

    __slots__ = ()

    @staticmethod
    def _fits(dp: DataPoint) -> bool:
        return dp.t1 is not None and dp.c is not None

    def _check(self, fields: dict[str, Any]) -> None:
        _times(fields)
        c = 1.0 if fields["c"] is None else fields["c"]
        if not isinstance(c, int | float) or isinstance(c, bool) or not 0.0 <= c <= 1.0:
            raise _error(f"c: {c!r} is not a confidence between 0 and 1")
        fields["c"] = float(c)


class DataPointTimeseriesBase(DataPointBase):
    """A timeseries chunk: ``t1`` required, ``t2`` defaults to ``t1``."""

    __slots__ = ()

    @staticmethod
    def _fits(dp: DataPoint) -> bool:
        return dp.t1 is not None and dp.c is None

    def _check(self, fields: dict[str, Any]) -> None:
        _times(fields)
        if isinstance(fields["v"], dict) and not isinstance(fields["v"], TimeseriesValue):
            fields["v"] = TimeseriesValue(fields["v"])


class TimeseriesValue(dict[str, list[Any]]):
    """A timeseries chunk's series, also readable as attributes (``dp.v.bytes``) as DP³'s
    per-attribute pydantic value; still the dict streamcore stores."""

    def __getattr__(self, name: str) -> list[Any]:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def model_dump(self) -> dict[str, list[Any]]:
        return dict(self)


__getattr__ = absent(
    __name__,
    dict.fromkeys(
        (
            "dp_ts_v_validator",
            "dp_ts_root_validator_regular_wrapper",
            "dp_ts_root_validator_irregular",
            "dp_ts_root_validator_irregular_intervals",
        ),
        "validators of DP³'s per-attribute pydantic models; streamcore checks timeseries "
        "chunks in ModelSpec.validate_task",
    ),
)

DataPointType = DataPointPlainBase | DataPointObservationsBase | DataPointTimeseriesBase

KIND_CLASSES = {
    "plain": DataPointPlainBase,
    "observations": DataPointObservationsBase,
    "timeseries": DataPointTimeseriesBase,
}
"""Attribute ``type`` -> its data-point class (DP³ keeps one per attribute, ``dp_model``)."""


def _times(fields: dict[str, Any]) -> None:
    t1 = _aware(fields["t1"], "t1")
    if t1 is None:
        raise _error("t1: required")
    t2 = _aware(fields["t2"], "t2") or t1
    if t2 < t1:
        raise _error("'t2' is before 't1'")
    fields["t1"], fields["t2"] = t1, t2


def _aware(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _error(f"{name}: {value!r} is not a time") from None
    if not isinstance(value, datetime):
        raise _error(f"{name}: {value!r} is not a time")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _json_default(value: Any) -> Any:
    """As pydantic writes JSON (DP³'s models): UTC times end in ``Z``."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return to_json_friendly(value) if not isinstance(value, set) else sorted(value)


def _error(message: str) -> ValidationError:
    """A pydantic ``ValidationError`` (a ``ValueError``), what DP³'s models raise."""
    return ValidationError.from_exception_data(
        "DataPoint", [{"type": "value_error", "loc": (), "input": None, "ctx": {"error": message}}]
    )


__all__ = [
    "DataPointBase",
    "DataPointObservationsBase",
    "DataPointPlainBase",
    "DataPointTimeseriesBase",
    "DataPointType",
    "TimeseriesValue",
    "ignore_value",
    "is_list_ordered",
    "to_json_friendly",
]
