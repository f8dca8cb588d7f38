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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from streamcore.errors import ExpiredDataPointError, LimitExceededError
from streamcore.model.datapoint import DataPoint, DataPointTask, Link
from streamcore.model.modelspec import ModelSpec, short_repr
from streamcore.model.spec import history_max_age
from streamcore.state.encoding import dumps

Clock = Callable[[], datetime]

KAFKA_MAX_MESSAGE_BYTES = 1_000_000
"""librdkafka's default ``message.max.bytes`` (the broker's is 1 MiB + 12 bytes): our own
message limit stays below it, so an oversized task is refused by us, with a reason."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Input bounds; ``streamcore.settings.LimitsSettings`` documents each default."""

    max_value_bytes: int = 65_536
    max_elements: int = 10_000
    max_data_points: int = 10_000
    max_message_bytes: int = 900_000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _env(name: str) -> str:
    return f"STREAMCORE_LIMITS__{name.upper()}"


class TaskValidator:
    """Model rules plus ``limits`` plus expiry; raises ``InvalidDataPointError`` subclasses."""

    def __init__(self, model: ModelSpec, limits: Limits | None = None, clock: Clock = _utc_now):
        self.model = model
        self.limits = limits or Limits()
        self._clock = clock
        self._max_ages: dict[tuple[str, str], timedelta] = {}
        for key, spec in model.attributes.items():
            max_age = history_max_age(spec)
            if max_age is not None:
                self._max_ages[key] = max_age

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
        now: datetime | None = None
        for dp in task.data_points:
            self._check_size(task, dp)
            max_age = self._max_ages.get((task.etype, dp.attr))
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
        where = f"{short_repr(task.etype)} {short_repr(task.eid)}"
        if len(task.data_points) > limits.max_data_points:
            raise self._too_large(
                f"{where}: task of {len(task.data_points)} data-points",
                "max_data_points",
                limits.max_data_points,
            )
        for name, items in (("ttl_tokens", task.ttl_tokens), ("tags", task.tags)):
            if items is not None and _count(items) > limits.max_elements:
                raise self._too_large(
                    f"{where}: {name} of {len(items)} items", "max_elements", limits.max_elements
                )
        for dp in task.data_points:
            count = _count(dp.v)
            if count > limits.max_elements:
                raise self._too_large(
                    f"{where}, attribute {dp.attr!r}: value of {count} elements",
                    "max_elements",
                    limits.max_elements,
                )

    def _check_size(self, task: DataPointTask, dp: DataPoint) -> None:
        """The stored JSON of the value (and the source text) within ``max_value_bytes``."""
        limit = self.limits.max_value_bytes
        for label, value in (("value", dp.v), ("src", dp.src)):
            size = _stored_size(value, limit)
            if size > limit:
                raise self._too_large(
                    f"{task.etype} {task.eid}, attribute {dp.attr!r}: {label} of {size} bytes",
                    "max_value_bytes",
                    limit,
                )

    @staticmethod
    def _too_large(what: str, name: str, limit: int) -> LimitExceededError:
        return LimitExceededError(f"{what} is over {name}={limit} (setting {_env(name)})")


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

    Scalars other than strings are short; a string's JSON is at most 6 bytes a character
    (``\\u00XX`` escapes) plus quotes, so most strings are judged without encoding them."""
    kind = type(value)
    if kind is str:
        if len(value) * 6 + 2 <= limit:
            return 0
        return len(orjson.dumps(value))
    if kind is list or kind is dict or kind is Link:
        return len(_dumps(value))
    return 0


def _dumps(value: Any) -> bytes:
    return dumps(value).encode()
