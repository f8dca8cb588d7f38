"""DP³'s rules for folding data-points into an entity's record (pure, no I/O).

* plain: the new value replaces the old one;
* observations: rows are validity intervals; a data-point whose value equals a row's and
  whose extended interval ``[t1 - pre_validity, t2 + post_validity]`` overlaps it is merged
  into it (interval union, confidence averaged) when ``aggregate`` is on;
* timeseries: one row per chunk, keyed by its start.

Every rule is idempotent: applying a data-point that the record already holds changes
nothing, so replaying a batch after a crash can't double-count. Row keys come from the
row's content, never from a counter, for the same reason.

Every rule is total over the times the model accepts: a time plus a validity, ``max_age``
or TTL saturates at the ends of the datetime range (``shift``) instead of overflowing,
and ``storable_ttl`` turns any expiry into a TTL Cassandra accepts.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import (
    AttrSpecObservations,
    EntitySpec,
    TimeToLiveLifetime,
    history_max_age,
)
from streamcore.state.encoding import dumps
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TIME_FLOOR = datetime.min.replace(tzinfo=UTC)
TIME_CEILING = datetime.max.replace(tzinfo=UTC, microsecond=999_000)
"""Saturated times, in whole milliseconds (Cassandra's unit: the driver rounds a
sub-millisecond ``datetime.max`` up into year 10000, which it then can't read back)."""

MAX_TTL_SECONDS = 630_720_000
"""Cassandra's largest TTL (20 years); a larger one is refused ("ttl is too large")."""
MAX_EXPIRATION = datetime(2038, 1, 19, 3, 14, 6, tzinfo=UTC)
"""The latest expiry Cassandra 5.0 stores in its default ``storage_compatibility_mode``
(CASSANDRA_4: 32-bit expiration times); a write expiring later is refused."""


def shift(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, saturating at the ends of the datetime range (a far-future
    observation plus its validity or ``max_age`` compares as "never", not an error)."""
    try:
        return moment + delta
    except OverflowError:
        return TIME_CEILING if delta > timedelta(0) else TIME_FLOOR


def storable_ttl(expires: datetime | None, now: datetime) -> int | None:
    """The TTL in seconds for a row expiring at ``expires`` (None: no expiry), clamped so
    Cassandra stores it: at most ``MAX_TTL_SECONDS`` and, until then, ``MAX_EXPIRATION``.

    A row that should live longer is kept as long as Cassandra can keep it (documented in
    the README); one already expired gives ``<= 0`` and the caller skips it.
    """
    if expires is None:
        return None
    limit = MAX_TTL_SECONDS
    if now < MAX_EXPIRATION:
        limit = min(limit, int((MAX_EXPIRATION - now).total_seconds()))
    return min(math.ceil((expires - now).total_seconds()), limit)


def to_millis(moment: datetime) -> datetime:
    """Cassandra keeps milliseconds; rounding first keeps replays byte-identical."""
    micros = moment.microsecond
    if micros % 1000 == 0:
        return moment  # already whole milliseconds (most decoded times)
    return moment.replace(microsecond=micros - micros % 1000)


def interval_key(t1: datetime, t2: datetime | None, v_json: str) -> bytes:
    """Sorts by start time; the digest tells apart rows starting together.

    Aggregated rows are keyed without ``t2``: extending an interval forward (the common
    case) then rewrites one row instead of deleting one and inserting another.
    """
    micros = (t1 - _EPOCH) // timedelta(microseconds=1)
    tail = v_json if t2 is None else f"{v_json}|{t2.isoformat()}"
    digest = hashlib.blake2b(tail.encode(), digest_size=8).digest()
    return struct.pack(">q", micros) + digest


def chunk_key(t1: datetime) -> bytes:
    return struct.pack(">q", (t1 - _EPOCH) // timedelta(microseconds=1))


def apply_plain(record: EntityRecord, dp: DataPoint, now: datetime) -> None:
    now = to_millis(now)
    v_json = dumps(dp.v)
    current = record.attrs.get(dp.attr, {}).get(PLAIN_KEY)
    if current is not None and current.v_json == v_json and current.src == dp.src:
        return
    record.put(dp.attr, PLAIN_KEY, Row(dp.v, v_json, t1=now, src=dp.src))


def apply_observation(record: EntityRecord, spec: AttrSpecObservations, dp: DataPoint) -> None:
    assert dp.t1 is not None and dp.t2 is not None
    params = spec.history_params
    v_json = dumps(dp.v)
    c = dp.c if dp.c is not None else 1.0
    rows = record.rows(dp.attr)
    t1, t2 = to_millis(dp.t1), to_millis(dp.t2)
    merged: list[tuple[bytes, Row]] = []
    if params.aggregate:
        pre, post = params.pre_validity, params.post_validity
        for key, row in rows.items():
            if row.v_json != v_json:
                continue
            assert row.t1 is not None and row.t2 is not None
            if shift(row.t2, post) < shift(t1, -pre) or shift(t2, post) < shift(row.t1, -pre):
                continue
            if row.t1 <= t1 and t2 <= row.t2:
                return  # already held: replays are no-ops
            merged.append((key, row))
        if merged:
            confidences = [row.c if row.c is not None else 1.0 for _, row in merged]
            c = (sum(confidences) + c) / (len(confidences) + 1)
            t1 = min(t1, *(row.t1 for _, row in merged if row.t1 is not None))
            t2 = max(t2, *(row.t2 for _, row in merged if row.t2 is not None))
    key = interval_key(t1, None if params.aggregate else t2, v_json)
    existing = rows.get(key)
    if existing is not None and existing.c == c and existing.t2 == t2:
        return
    for old_key, _ in merged:
        if old_key != key:
            record.remove(dp.attr, old_key)
    record.put(dp.attr, key, Row(dp.v, v_json, t1=t1, t2=t2, c=c, src=dp.src))
    if params.max_items is not None and len(rows) > params.max_items:
        _keep_newest(record, dp.attr, params.max_items)


def _keep_newest(record: EntityRecord, attr: str, limit: int) -> None:
    rows = record.rows(attr)
    by_age = sorted(rows, key=lambda k: (rows[k].t2 or _EPOCH, k))
    for key in by_age[: len(rows) - limit]:
        record.remove(attr, key)


def apply_timeseries(record: EntityRecord, dp: DataPoint) -> None:
    assert dp.t1 is not None
    v_json = dumps(dp.v)
    t1 = to_millis(dp.t1)
    t2 = to_millis(dp.t2) if dp.t2 is not None else t1
    key = chunk_key(t1)
    current = record.rows(dp.attr).get(key)
    if current is not None and current.v_json == v_json and current.t2 == t2:
        return
    record.put(dp.attr, key, Row(dp.v, v_json, t1=t1, t2=t2, src=dp.src))


def row_expiry(spec: Any, row: Row) -> datetime | None:
    """When a row falls out of history (``max_age`` after its end), if ever."""
    max_age = history_max_age(spec)
    if max_age is None or row.t2 is None:
        return None
    return shift(row.t2, max_age)


def extend_ttl(record: EntityRecord, tokens: dict[str, datetime]) -> None:
    """Keep the latest expiry of each named token (TTL tokens only ever extend).

    Kept in whole milliseconds, as Cassandra stores them, so a replay compares equal."""
    for name, given in tokens.items():
        expires = to_millis(given)
        current = record.ttl_tokens.get(name)
        if current is None or expires > current:
            record.ttl_tokens[name] = expires
            record.dirty_meta = True


@dataclass(frozen=True, slots=True)
class LifetimeRule:
    """The TTL tokens a data-point of one attribute gives a ``ttl``-lifetime entity:
    ``attr:<name>`` for an attribute with a ``ttl``, and ``data`` following the row's
    expiry under ``mirror_data``. Derived once per attribute (``lifetime_rule``)."""

    attr_token: str
    ttl: timedelta | None
    max_age: timedelta | None

    def tokens(self, dp: DataPoint, now: datetime) -> dict[str, datetime]:
        tokens: dict[str, datetime] = {}
        if self.ttl is not None:
            tokens[self.attr_token] = shift(now, self.ttl)
        if self.max_age is not None and dp.t2 is not None:
            tokens["data"] = shift(dp.t2, self.max_age)
        return tokens


def lifetime_rule(entity: EntitySpec, spec: Any) -> LifetimeRule | None:
    """None when data-points of ``spec`` never give ``entity`` tokens (most attributes)."""
    lifetime = entity.lifetime
    if not isinstance(lifetime, TimeToLiveLifetime):
        return None
    ttl = spec.ttl or None
    max_age = history_max_age(spec) if lifetime.mirror_data else None
    if ttl is None and max_age is None:
        return None
    return LifetimeRule(f"attr:{spec.id}", ttl, max_age)


def lifetime_tokens(
    entity: EntitySpec, spec: Any, dp: DataPoint, now: datetime
) -> dict[str, datetime]:
    """The TTL tokens a data-point gives a ``ttl``-lifetime entity (none for others)."""
    rule = lifetime_rule(entity, spec)
    return rule.tokens(dp, now) if rule is not None else {}


def creation_tokens(entity: EntitySpec, now: datetime) -> dict[str, datetime]:
    lifetime = entity.lifetime
    if isinstance(lifetime, TimeToLiveLifetime):
        return {"base": shift(now, lifetime.on_create)}
    return {}
