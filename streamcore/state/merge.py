"""DP³'s rules for folding data-points into an entity's record (pure, no I/O).

* plain: the new value replaces the old one;
* observations: rows are validity intervals; a data-point whose value equals a row's and
  whose extended interval ``[t1 - pre_validity, t2 + post_validity]`` overlaps it is merged
  into it (interval union, confidence averaged) when ``aggregate`` is on;
* timeseries: one row per chunk, keyed by its start.

Every rule is idempotent: applying a data-point that the record already holds changes
nothing, so replaying a batch after a crash can't double-count. Row keys come from the
row's content, never from a counter, for the same reason.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from streamcore.model.datapoint import DataPoint
from streamcore.model.spec import (
    AttrSpecObservations,
    AttrSpecTimeseries,
    EntitySpec,
    TimeToLiveLifetime,
)
from streamcore.state.encoding import dumps
from streamcore.state.record import PLAIN_KEY, EntityRecord, Row

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
            if row.t2 + post < t1 - pre or t2 + post < row.t1 - pre:
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
    return row.t2 + max_age


def history_max_age(spec: Any) -> timedelta | None:
    """How long an attribute's rows stay after their end (None: plain, or kept forever)."""
    if isinstance(spec, AttrSpecObservations):
        return spec.history_params.max_age
    if isinstance(spec, AttrSpecTimeseries):
        return spec.timeseries_params.max_age
    return None


def extend_ttl(record: EntityRecord, tokens: dict[str, datetime]) -> None:
    """Keep the latest expiry of each named token (TTL tokens only ever extend)."""
    for name, expires in tokens.items():
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
            tokens[self.attr_token] = now + self.ttl
        if self.max_age is not None and dp.t2 is not None:
            tokens["data"] = dp.t2 + self.max_age
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
        return {"base": now + lifetime.on_create}
    return {}
