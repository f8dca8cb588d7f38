"""``TaskValidator``: the one check every task passes on its way in, wherever it enters.

It sits above the stages (like ``producer.py``): it needs the model and the stored form
of values (``state.encoding``).

The producer SDK, ``streamcore produce``, the ingestion worker's decoder (and the API, when
it comes) all validate through this object, so they accept and refuse the same tasks:

1. the message size (``check_message``), before anything is decoded;
2. counts, before the model's checks: data-points per task, elements per value, TTL
   tokens and tags (so a hostile 200k-element set never reaches the per-item checks);
3. the entity model (``ModelSpec.validate_task``: types, finite numbers, time window);
4. the stored size of each value and source (the JSON text Cassandra would hold);
5. expiry: an observation or timeseries whose ``t2 + max_age`` is already past would be
   dropped by the store, so it is refused instead (``ExpiredDataPointError``).

Steps 2 and 4 raise ``LimitExceededError`` naming the limit and the setting that raises it.
The clock is injected, so tests decide what "already past" means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from streamcore.errors import ExpiredDataPointError, LimitExceededError
from streamcore.model.datapoint import DataPoint, DataPointTask
from streamcore.model.datatypes import DataType, Kind
from streamcore.model.modelspec import ModelSpec, short_repr
from streamcore.model.spec import AttrSpecTimeseries, history_max_age
from streamcore.settings import Limits
from streamcore.state.encoding import dumps

__all__ = ["Clock", "Limits", "TaskValidator"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _env(name: str) -> str:
    return f"STREAMCORE_LIMITS__{name.upper()}"


class TaskValidator:
    """Model rules plus ``limits`` plus expiry; raises ``InvalidDataPointError`` subclasses.

    Per attribute, what to check after the model is compiled once: the size check only
    where the data type's stored form can outgrow ``max_value_bytes`` (strings, JSON, long
    arrays), the expiry check only where there is a ``max_age``. This runs in the worker's
    decoding hot path."""

    def __init__(self, model: ModelSpec, limits: Limits | None = None, clock: Clock = _utc_now):
        self.model = model
        self.limits = limits or Limits()
        self._clock = clock
        self._after: dict[str, dict[str, tuple[Sizer | None, timedelta | None]]] = {}
        eid_types = {etype: spec.id_data_type for etype, spec in model.entities.items()}
        for (etype, attr), spec in model.attributes.items():
            sizer = _attribute_sizer(spec, eid_types, self.limits)
            self._after.setdefault(etype, {})[attr] = (sizer, history_max_age(spec))

    def check_message(self, size: int) -> None:
        """Refuse a message of ``size`` bytes over ``max_message_bytes``."""
        if size > self.limits.max_message_bytes:
            raise self._too_large(
                f"message of {size} bytes", "max_message_bytes", self.limits.max_message_bytes
            )

    def validate(self, task: DataPointTask) -> DataPointTask:
        """Check and normalize ``task`` in place (as ``ModelSpec.validate_task``); returns it."""
        self._check_counts(task)
        self.model.validate_task(task)
        after = self._after[task.etype]
        limit = self.limits.max_value_bytes
        now: datetime | None = None
        for dp in task.data_points:
            sizer, max_age = after[dp.attr]
            if sizer is not None and (size := sizer(dp.v)) > limit:
                raise self._value_too_large(task, dp, "value", size)
            if dp.src is not None and (size := _stored_size(dp.src, limit)) > limit:
                raise self._value_too_large(task, dp, "src", size)
            if max_age is not None and dp.t2 is not None:
                now = now or self._clock()
                if dp.t2 < _minus(now, max_age):
                    raise ExpiredDataPointError(
                        f"{task.etype} {task.eid}, attribute {dp.attr!r}: t2 "
                        f"{dp.t2.isoformat()} + max_age {max_age} is already past, the "
                        "data-point would expire before it is stored"
                    )
        return task

    def _check_counts(self, task: DataPointTask) -> None:
        limits = self.limits
        most = limits.max_elements
        if len(task.data_points) > limits.max_data_points:
            raise self._too_large(
                f"{_where(task)}: task of {len(task.data_points)} data-points",
                "max_data_points",
                limits.max_data_points,
            )
        for name, items in (("ttl_tokens", task.ttl_tokens), ("tags", task.tags)):
            if items is not None and _count(items) > most:
                raise self._too_large(
                    f"{_where(task)}: {name} of {len(items)} items", "max_elements", most
                )
        for dp in task.data_points:
            v = dp.v
            kind = type(v)
            if kind is str or v is None:
                continue
            if (count := _count(v)) > most:
                raise self._too_large(
                    f"{_where(task)}, attribute {short_repr(dp.attr)}: value of {count} elements",
                    "max_elements",
                    most,
                )

    def _value_too_large(
        self, task: DataPointTask, dp: DataPoint, label: str, size: int
    ) -> LimitExceededError:
        limit = self.limits.max_value_bytes
        return self._too_large(
            f"{task.etype} {task.eid}, attribute {dp.attr!r}: {label} of {size} bytes",
            "max_value_bytes",
            limit,
        )

    @staticmethod
    def _too_large(what: str, name: str, limit: int) -> LimitExceededError:
        return LimitExceededError(f"{what} is over {name}={limit} (setting {_env(name)})")


def _where(task: DataPointTask) -> str:
    """Type and id of a task not yet validated (so possibly huge): cut short."""
    return f"{short_repr(task.etype)} {short_repr(task.eid)}"


Sizer = Callable[[Any], int]
"""The stored size of a value, or 0 when it can't be over the limit (not computed then)."""

# Stored JSON bytes at most of one primitive value (None: no bound, e.g. strings).
# float: the longest repr is 24 characters (-2.2250738585072014e-308); time: an ISO string
# with microseconds and offset, quoted; ipv6 may carry a scope id of any length.
_PRIMITIVE_BOUNDS: dict[str, int | None] = {
    "tag": 5,
    "binary": 5,
    "int": 11,
    "int64": 20,
    "float": 24,
    "ipv4": 17,
    "ipv6": None,
    "mac": 19,
    "time": 34,
    "string": None,
    "special": None,
    "json": None,
}


def _attribute_sizer(spec: Any, eid_types: dict[str, DataType], limits: Limits) -> Sizer | None:
    """The size check of an attribute's values; None when its values are always small."""
    limit = limits.max_value_bytes
    if isinstance(spec, AttrSpecTimeseries):
        bound = _sum_bounds(
            _times(_bound(s.data_type, eid_types), limits.max_elements, len(name) + 4)
            for name, s in spec.series.items()
        )
        elem = None
    else:
        data_type = spec.data_type
        bound = _bound(data_type, eid_types, limits.max_elements)
        elem = _bound(data_type.elem, eid_types) if data_type.iterable and data_type.elem else None
    if bound is not None and bound <= limit:
        return None
    if elem is not None:
        per_item = elem + 1

        def sized_items(value: Any) -> int:
            return 0 if len(value) * per_item + 2 <= limit else _stored_size(value, limit)

        return sized_items
    return lambda value: _stored_size(value, limit)


def _bound(
    data_type: DataType, eid_types: dict[str, DataType], max_elements: int = 1
) -> int | None:
    """Stored JSON bytes at most of a value of ``data_type`` (None: unbounded)."""
    kind = data_type.kind
    if kind is Kind.PRIMITIVE:
        return _PRIMITIVE_BOUNDS[data_type.name]
    if kind is Kind.CATEGORY:
        return max(len(c) * 6 + 2 for c in data_type.categories)
    if kind is Kind.ARRAY or kind is Kind.SET:
        return _times(_bound(data_type.elem_type, eid_types), max_elements, 1)
    if kind is Kind.DICT:
        return _sum_bounds(
            None if (b := _bound(t, eid_types)) is None else b + len(key) + 4
            for key, (t, _) in data_type.fields.items()
        )
    eid = _bound(eid_types[data_type.get_linked_entity()], eid_types)
    data = _bound(data_type.link_data, eid_types) if data_type.link_data else 0
    return None if eid is None or data is None else eid + data + 20


def _times(bound: int | None, count: int, overhead: int) -> int | None:
    return None if bound is None else (bound + 1) * count + overhead + 2


def _sum_bounds(bounds: Iterable[int | None]) -> int | None:
    total = 2
    for bound in bounds:
        if bound is None:
            return None
        total += bound + 1
    return total


def _minus(now: datetime, max_age: timedelta) -> datetime:
    """``now - max_age``, the earliest ``t2`` still alive (no overflow: datetime.min on it)."""
    try:
        return now - max_age
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _count(value: Any) -> int:
    """Elements of a raw value: an array's items, a dict's keys or its longest array
    (a timeseries' series); 0 for scalars. Shallow, so it is cheap on any input."""
    kind = type(value)
    if kind is list or kind is tuple or kind is set or kind is frozenset:
        return len(value)
    if kind is dict:
        longest = len(value)
        for item in value.values():
            if type(item) is list or type(item) is tuple:
                longest = max(longest, len(item))
        return longest
    return 0


def _stored_size(value: Any, limit: int) -> int:
    """Bytes of the value's stored JSON text, computed only when it may exceed ``limit``.

    A string's JSON is at most 6 bytes a character (``\\u00XX`` escapes) plus quotes, so
    most strings are judged without encoding them."""
    if type(value) is str and len(value) * 6 + 2 <= limit:
        return 0
    return len(_dumps(value))


def _dumps(value: Any) -> bytes:
    return dumps(value).encode()
